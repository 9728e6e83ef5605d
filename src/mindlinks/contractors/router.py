"""Routes of the contractors domain: `/api/contractors/me/...` for the contractor, and
`POST /api/admin/tax-info/{id}/review` for admins (until an `admin` package exists)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, Request, Response, UploadFile, status

from mindlinks.contractors import (
    achievements,
    banking,
    credential_documents,
    credentials,
    documents,
    onboarding,
    service,
    tax,
)
from mindlinks.contractors.providers import MicroDepositSender, MicroDepositsUnavailable
from mindlinks.contractors.schemas import (
    AchievementOut,
    AvatarOut,
    BankAccount,
    BankAccountCreate,
    BankDetails,
    BankDetailsPut,
    ContractorProfile,
    Document,
    EntityType,
    InsuranceIn,
    InsurancePolicy,
    InsuranceReview,
    InsuranceUpdate,
    License,
    LicenseIn,
    LicenseReview,
    LicenseUpdate,
    Onboarding,
    ProfileUpdate,
    TaxFormType,
    TaxInfo,
    TaxReview,
    VerifyDeposits,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.security import AdminUser, CurrentContractor
from mindlinks.platform.storage import StorageBackend, get_storage


async def _storage(request: Request) -> StorageBackend:
    return get_storage(request.app.state)


async def _sender(request: Request) -> MicroDepositSender:
    sender: MicroDepositSender | None = getattr(request.app.state, "micro_deposit_sender", None)
    if sender is None:
        raise MicroDepositsUnavailable("No micro-deposit sender is configured")
    return sender


StorageDep = Annotated[StorageBackend, Depends(_storage)]
SenderDep = Annotated[MicroDepositSender, Depends(_sender)]

me = domain_router(prefix="/api/contractors/me", tags=["Contractor Service"])
admin = domain_router(prefix="/api/admin", tags=["Contractor Service"])


# --- profile ----------------------------------------------------------------------------


@me.get("", response_model=ContractorProfile)
async def get_profile(session: SessionDep, actor: CurrentContractor, storage: StorageDep
                      ) -> ContractorProfile:
    profile = await service.own_profile(session, actor)
    return await service.profile_out(session, storage, profile)


@me.put("", response_model=ContractorProfile)
async def update_profile(session: SessionDep, actor: CurrentContractor, storage: StorageDep,
                         body: ProfileUpdate) -> ContractorProfile:
    profile = await service.update_profile(session, actor, body)
    return await service.profile_out(session, storage, profile)


@me.post("/avatar", response_model=AvatarOut)
async def upload_avatar(session: SessionDep, actor: CurrentContractor, storage: StorageDep,
                        file: Annotated[UploadFile, File()]) -> AvatarOut:
    url = await service.set_avatar(session, actor, storage, file, file.filename)
    return AvatarOut(avatar_url=url)


# --- bank -------------------------------------------------------------------------------


@me.get("/bank-details", response_model=BankDetails)
async def get_bank_details(session: SessionDep, actor: CurrentContractor) -> BankDetails:
    return banking.details_out(await banking.primary(session, actor))


@me.put("/bank-details", response_model=BankDetails)
async def put_bank_details(session: SessionDep, actor: CurrentContractor, sender: SenderDep,
                           body: BankDetailsPut) -> BankDetails:
    return banking.details_out(await banking.put_primary(session, actor, body, sender))


@me.get("/bank-accounts", response_model=list[BankAccount])
async def list_bank_accounts(session: SessionDep, actor: CurrentContractor
                             ) -> list[BankAccount]:
    return [banking.account_out(a) for a in await banking.list_accounts(session, actor)]


@me.post("/bank-accounts", response_model=BankAccount, status_code=status.HTTP_201_CREATED)
async def add_bank_account(session: SessionDep, actor: CurrentContractor, sender: SenderDep,
                           body: BankAccountCreate) -> BankAccount:
    return banking.account_out(await banking.create_account(session, actor, body, sender))


@me.delete("/bank-accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bank_account(session: SessionDep, actor: CurrentContractor,
                              account_id: uuid.UUID) -> Response:
    await banking.delete(session, actor, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.post("/bank-accounts/{account_id}/primary", response_model=BankAccount)
async def make_primary(session: SessionDep, actor: CurrentContractor, account_id: uuid.UUID
                       ) -> BankAccount:
    return banking.account_out(await banking.make_primary(session, actor, account_id))


@me.post("/bank-accounts/{account_id}/verify", response_model=BankAccount)
async def verify_bank_account(session: SessionDep, actor: CurrentContractor,
                              account_id: uuid.UUID, body: VerifyDeposits) -> BankAccount:
    return banking.account_out(await banking.verify(session, actor, account_id, body.amounts))


# --- tax --------------------------------------------------------------------------------


@me.get("/tax-info", response_model=TaxInfo)
async def get_tax_info(session: SessionDep, actor: CurrentContractor, storage: StorageDep
                       ) -> TaxInfo:
    return await tax.tax_out(storage, session, await tax.latest(session, actor))


@me.post("/tax-info", response_model=TaxInfo, status_code=status.HTTP_201_CREATED)
async def submit_tax_info(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep,
    tax_id: Annotated[str, Form(alias="taxId", min_length=1, max_length=40)],
    tax_country: Annotated[str, Form(alias="taxCountry", min_length=2, max_length=100)],
    tax_form: Annotated[UploadFile, File(alias="taxForm")],
    entity_type: Annotated[EntityType, Form(alias="entityType")] = "individual",
    tax_form_type: Annotated[TaxFormType | None, Form(alias="taxFormType")] = None,
) -> TaxInfo:
    info = await tax.submit(session, actor, storage, tax_id=tax_id, tax_country=tax_country,
                            entity_type=entity_type, tax_form_type=tax_form_type,
                            upload=tax_form, filename=tax_form.filename)
    return await tax.tax_out(storage, session, info)


@admin.post("/tax-info/{tax_info_id}/review", response_model=TaxInfo)
async def review_tax_info(session: SessionDep, actor: AdminUser, storage: StorageDep,
                          tax_info_id: uuid.UUID, body: TaxReview) -> TaxInfo:
    info = await tax.review(session, actor, tax_info_id, body.decision, body.reason)
    return await tax.tax_out(storage, session, info)


# --- licences and insurance -------------------------------------------------------------


@me.get("/licenses", response_model=list[License])
async def list_licenses(session: SessionDep, actor: CurrentContractor) -> Any:
    return await credentials.list_licenses(session, actor)


@me.post("/licenses", response_model=License, status_code=status.HTTP_201_CREATED)
async def add_license(session: SessionDep, actor: CurrentContractor, body: LicenseIn) -> Any:
    return await credentials.add_license(session, actor, body)


@me.get("/licenses/{license_id}", response_model=License)
async def get_license(session: SessionDep, actor: CurrentContractor, license_id: uuid.UUID
                      ) -> Any:
    return await credentials.get_license(session, actor, license_id)


@me.put("/licenses/{license_id}", response_model=License)
async def update_license(session: SessionDep, actor: CurrentContractor, license_id: uuid.UUID,
                         body: LicenseUpdate) -> Any:
    return await credentials.update_license(session, actor, license_id, body)


@me.delete("/licenses/{license_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_license(session: SessionDep, actor: CurrentContractor, license_id: uuid.UUID
                         ) -> Response:
    await credentials.delete_license(session, actor, license_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.get("/insurance-policies", response_model=list[InsurancePolicy])
async def list_policies(session: SessionDep, actor: CurrentContractor) -> Any:
    return await credentials.list_policies(session, actor)


@me.post("/insurance-policies", response_model=InsurancePolicy,
         status_code=status.HTTP_201_CREATED)
async def add_policy(session: SessionDep, actor: CurrentContractor, body: InsuranceIn) -> Any:
    return await credentials.add_policy(session, actor, body)


@me.get("/insurance-policies/{policy_id}", response_model=InsurancePolicy)
async def get_policy(session: SessionDep, actor: CurrentContractor, policy_id: uuid.UUID
                     ) -> Any:
    return await credentials.get_policy(session, actor, policy_id)


@me.put("/insurance-policies/{policy_id}", response_model=InsurancePolicy)
async def update_policy(session: SessionDep, actor: CurrentContractor, policy_id: uuid.UUID,
                        body: InsuranceUpdate) -> Any:
    return await credentials.update_policy(session, actor, policy_id, body)


@me.delete("/insurance-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(session: SessionDep, actor: CurrentContractor, policy_id: uuid.UUID
                        ) -> Response:
    await credentials.delete_policy(session, actor, policy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# A licence's scan / a policy's certificate (PDF, JPEG or PNG; the documents' upload rules).
# Attaching one sends a reviewed item back to review; the GET is its signed, expiring link.


@me.put("/licenses/{license_id}/document", response_model=License)
async def attach_license_document(session: SessionDep, actor: CurrentContractor,
                                  storage: StorageDep, license_id: uuid.UUID,
                                  file: Annotated[UploadFile, File()]) -> Any:
    return await credential_documents.attach_license_document(
        session, actor, storage, license_id, file, file.filename)


@me.get("/licenses/{license_id}/document", response_model=Document)
async def license_document(session: SessionDep, actor: CurrentContractor, storage: StorageDep,
                           license_id: uuid.UUID) -> Any:
    return await credential_documents.license_document(session, actor, storage, license_id)


@me.put("/insurance-policies/{policy_id}/document", response_model=InsurancePolicy)
async def attach_policy_document(session: SessionDep, actor: CurrentContractor,
                                 storage: StorageDep, policy_id: uuid.UUID,
                                 file: Annotated[UploadFile, File()]) -> Any:
    return await credential_documents.attach_policy_document(
        session, actor, storage, policy_id, file, file.filename)


@me.get("/insurance-policies/{policy_id}/document", response_model=Document)
async def policy_document(session: SessionDep, actor: CurrentContractor, storage: StorageDep,
                          policy_id: uuid.UUID) -> Any:
    return await credential_documents.policy_document(session, actor, storage, policy_id)


@admin.post("/licenses/{license_id}/review", response_model=License)
async def review_license(session: SessionDep, actor: AdminUser, license_id: uuid.UUID,
                         body: LicenseReview) -> Any:
    return await credentials.review_license(session, actor, license_id, body.decision)


@admin.post("/insurance-policies/{policy_id}/review", response_model=InsurancePolicy)
async def review_policy(session: SessionDep, actor: AdminUser, policy_id: uuid.UUID,
                        body: InsuranceReview) -> Any:
    return await credentials.review_policy(session, actor, policy_id, body.decision)


# --- documents, onboarding, achievements ------------------------------------------------


@me.get("/documents", response_model=Page[Document])
async def list_documents(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep, page: PageDep,
    type_: Annotated[str | None, Query(alias="type", max_length=40)] = None,
) -> Page[Document]:
    profile = await service.own_profile(session, actor)
    rows, total = await documents.page(session, storage, profile.id, offset=page.offset,
                                       limit=page.limit, type_=type_)
    return Page[Document].build(rows, total, page)


@me.get("/onboarding", response_model=Onboarding)
async def get_onboarding(session: SessionDep, actor: CurrentContractor) -> Onboarding:
    return await onboarding.progress(session, await service.own_profile(session, actor))


@me.get("/achievements", response_model=list[AchievementOut])
async def list_achievements(session: SessionDep, actor: CurrentContractor
                            ) -> list[AchievementOut]:
    profile = await service.own_profile(session, actor)
    return await achievements.list_for(session, profile.id)


routers = [me, admin]

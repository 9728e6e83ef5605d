"""Journal routes: digest, entries, proofs, entity history, and the admin chain check.

Every route needs a signed-in user. Digests and proofs carry only hashes and sizes; an
entry's content is shown to admins and to whoever its entity's access policy admits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Query

from mindlinks.ledger import schemas, service
from mindlinks.platform import audit
from mindlinks.platform.api import MAX_INT64, Page, PageDep, SessionDep, domain_router
from mindlinks.platform.security import AdminUser, CurrentUser

router = domain_router(tags=["Ledger Service"])

SeqPath = Annotated[int, Path(ge=1, le=MAX_INT64, description="Journal sequence number")]
# Entity types and ids are the journal's own short names and UUIDs.
EntityTypePath = Annotated[str, Path(min_length=1, max_length=64)]
EntityIdPath = Annotated[str, Path(min_length=1, max_length=128)]
routers = [router]


@router.get("/api/ledger/digest", response_model=schemas.Digest)
async def get_digest(
    session: SessionDep,
    actor: CurrentUser,
    seq: Annotated[int | None, Query(ge=0, le=MAX_INT64,
                                     description="Digest at this seq (default head)")] = None,
) -> schemas.Digest:
    return schemas.Digest.of(await service.digest(session, seq))


@router.get("/api/ledger/entries/{seq}", response_model=schemas.Entry)
async def get_entry(session: SessionDep, actor: CurrentUser, seq: SeqPath) -> schemas.Entry:
    return schemas.Entry.of(await service.get_entry(session, actor, seq))


@router.get("/api/ledger/entries/{seq}/proof", response_model=schemas.InclusionProofOut)
async def get_inclusion_proof(
    session: SessionDep,
    actor: CurrentUser,
    seq: SeqPath,
    digest_seq: Annotated[int | None, Query(alias="digestSeq", ge=1, le=MAX_INT64)] = None,
) -> schemas.InclusionProofOut:
    return schemas.InclusionProofOut.of(await service.inclusion_proof(session, seq, digest_seq))


@router.get("/api/ledger/consistency", response_model=schemas.ConsistencyProofOut)
async def get_consistency_proof(
    session: SessionDep,
    actor: CurrentUser,
    from_seq: Annotated[int, Query(alias="from", ge=1, le=MAX_INT64)],
    to_seq: Annotated[int | None, Query(alias="to", ge=1, le=MAX_INT64)] = None,
) -> schemas.ConsistencyProofOut:
    return schemas.ConsistencyProofOut.of(
        await service.consistency_proof(session, from_seq, to_seq)
    )


@router.get(
    "/api/ledger/entities/{entity_type}/{entity_id}/history",
    response_model=Page[schemas.Entry],
)
async def get_entity_history(
    session: SessionDep,
    actor: CurrentUser,
    entity_type: EntityTypePath,
    entity_id: EntityIdPath,
    page: PageDep,
) -> Page[schemas.Entry]:
    rows, total = await service.entity_history(
        session, actor, entity_type, entity_id, offset=page.offset, limit=page.limit
    )
    return Page[schemas.Entry].build([schemas.Entry.of(r) for r in rows], total, page)


@router.post("/api/admin/ledger/verify", response_model=schemas.VerifyReport)
async def verify_ledger(
    session: SessionDep,
    actor: AdminUser,
    body: Annotated[schemas.VerifyRequest | None, Body()] = None,
) -> schemas.VerifyReport:
    against = body.against.value() if body and body.against else None
    report = await service.verify_chain(session, against=against)
    await audit.record(
        session,
        actor,
        "ledger.verified",
        "ledger",
        None,
        {
            "verified": report.verified,
            "firstBrokenSeq": report.first_broken_seq,
            "againstSeq": against.seq if against else None,
        },
    )
    return schemas.VerifyReport.of(report)

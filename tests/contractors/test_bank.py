"""Bank accounts: validation (IBAN mod-97, BIC, ABA), encryption at rest, masking, micro-deposit
verification, name matching, primary account, and isolation between contractors."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from mindlinks.contractors import service
from mindlinks.contractors.models import BankAccount
from mindlinks.platform import crypto
from mindlinks.platform.errors import DomainError
from tests.contractors.conftest import (
    ABA,
    ACCOUNT,
    IBAN_DE,
    add_us_account,
    complete_profile,
    events_named,
    statement_amounts,
)
from tests.factories import mails

BASE = "/api/contractors/me/bank-accounts"


async def _raw_row(app, account_id: str) -> dict:
    async with app.state.db.session() as session:
        row = (await session.execute(
            text("SELECT * FROM contractor_bank_details WHERE id = :id"),
            {"id": uuid.UUID(account_id) if not app.state.db.is_sqlite
             else uuid.UUID(account_id).hex},
        )).mappings().one()
    return dict(row)


async def test_account_is_masked_everywhere_and_encrypted_at_rest(client, app, contractor):
    created = await add_us_account(client, contractor, swiftCode="CHASUS33")
    assert created["accountNumber"] == "****6789" and created["routingNumber"] == "****0015"
    assert created["status"] == "pending_verification" and created["isPrimary"] is True
    assert created["verificationMethod"] == "micro-deposit"
    assert created["verificationAttemptsLeft"] == 3 and created["nameMismatch"] is False
    listed = (await client.get(BASE, headers=contractor.headers)).json()
    details = (await client.get("/api/contractors/me/bank-details",
                                headers=contractor.headers)).json()
    assert set(details) == {"id", "bankName", "accountNumber", "routingNumber", "currency",
                            "status", "createdAt"}
    for text_ in (str(created), str(listed), str(details)):
        assert ACCOUNT not in text_ and ABA not in text_

    raw = await _raw_row(app, created["id"])
    blob = " ".join(str(v) for v in raw.values())
    assert ACCOUNT not in blob and ABA not in blob
    assert str(raw["account_number_enc"]).startswith("ml1.")
    # The micro-deposit amounts are stored only encrypted, never readable through the API.
    amounts = statement_amounts(app, created["id"])
    assert len(amounts) == 2 and all(1 <= a <= 99 for a in amounts)
    assert str(raw["micro_deposits_enc"]).startswith("ml1.")
    assert f"{amounts[0]},{amounts[1]}" not in blob
    assert not any("deposit" in key.lower() or "amount" in key.lower() for key in listed[0])

    events = await events_named(app, "contractor.bank_account.created")
    assert events and ACCOUNT not in str(events)


async def test_micro_deposit_verification(client, app, contractor):
    account = await add_us_account(client, contractor)
    a, b = statement_amounts(app, account["id"])
    wrong = [a % 99 + 1, b]
    first = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                              json={"amounts": wrong})
    assert first.status_code == 422 and first.json()["code"] == "incorrect_amounts"
    ok = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                           json={"amounts": [b, a]})  # order does not matter
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "verified" and ok.json()["verifiedAt"]
    again = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                              json={"amounts": [a, b]})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert (await events_named(app, "contractor.bank_account.verified"))


async def test_three_wrong_attempts_fail_the_account(client, app, contractor):
    account = await add_us_account(client, contractor)
    a, b = statement_amounts(app, account["id"])
    wrong = {"amounts": [a % 99 + 1, b % 99 + 1]}
    codes = []
    for _ in range(3):
        r = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                              json=wrong)
        assert r.status_code == 422
        codes.append(r.json()["code"])
    assert codes == ["incorrect_amounts", "incorrect_amounts", "verification_failed"]
    listed = (await client.get(BASE, headers=contractor.headers)).json()
    assert listed[0]["status"] == "failed" and listed[0]["verificationAttemptsLeft"] == 0
    # The right amounts no longer help.
    late = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                             json={"amounts": [a, b]})
    assert late.status_code == 409
    cid = uuid.UUID((await client.get("/api/contractors/me", headers=contractor.headers)
                     ).json()["id"])
    async with app.state.db.session() as session:
        with pytest.raises(DomainError) as refused:
            await service.payout_account(session, cid)
    assert refused.value.code == "bank_account_not_verified"


async def test_a_failed_account_cannot_become_primary(client, app, contractor):
    primary = await add_us_account(client, contractor)
    failed = await add_us_account(client, contractor, accountNumber="555566667777")
    a, b = statement_amounts(app, failed["id"])
    for _ in range(3):
        await client.post(f"{BASE}/{failed['id']}/verify", headers=contractor.headers,
                          json={"amounts": [a % 99 + 1, b % 99 + 1]})
    r = await client.post(f"{BASE}/{failed['id']}/primary", headers=contractor.headers)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    listed = {x["id"]: (x["status"], x["isPrimary"]) for x in
              (await client.get(BASE, headers=contractor.headers)).json()}
    assert listed == {primary["id"]: ("pending_verification", True),
                      failed["id"]: ("failed", False)}


async def test_a_developer_verifies_an_account_from_the_sandbox_statement_mail(
        client, app, contractor):
    """Onboarding completes locally with only what the sandbox shows: the statement mailed to
    the development mailbox (var/mail), not the test's view of the sandbox's memory."""
    account = await add_us_account(client, contractor, currency="EUR")
    await app.state.runtime.mailer.drain()
    statements = [m for m in mails(app.state.settings.mail_dir)
                  if account["id"] in str(m["Subject"])]
    assert len(statements) == 1
    body = statements[0].get_body(preferencelist=("plain",)).get_content()
    shown = re.findall(r"^  (0\.\d\d) EUR$", body, re.MULTILINE)
    requested = re.search(r'\{"amounts": \[(\d+), (\d+)\]\}', body)
    assert requested and len(shown) == 2
    amounts = [int(requested.group(1)), int(requested.group(2))]
    assert [f"0.{n:02d}" for n in amounts] == shown  # the request matches the statement
    assert ACCOUNT not in body  # the statement names the account by id only

    r = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                          json={"amounts": amounts})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified"


async def test_invalid_numbers_are_refused(client, contractor):
    base = {"accountHolderName": "Ada Lovelace", "bankName": "B", "currency": "EUR",
            "country": "DE"}
    cases = [
        ({**base, "iban": "DE89370400440532013001"}, "invalid_iban"),  # mod-97 fails
        ({**base, "iban": IBAN_DE, "swiftCode": "NOTABIC!"}, "invalid_bic"),
        ({**base, "currency": "ZZZ", "iban": IBAN_DE}, "unknown_currency"),
        ({**base}, "account_number_required"),
        ({**base, "country": "US", "currency": "USD", "accountNumber": ACCOUNT,
          "routingNumber": "011000016"}, "invalid_routing_number"),  # ABA checksum fails
        ({**base, "country": "US", "currency": "USD", "accountNumber": ACCOUNT},
         "routing_number_required"),
    ]
    for body, code in cases:
        r = await client.post(BASE, headers=contractor.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code, body
    assert (await client.get(BASE, headers=contractor.headers)).json() == []


async def test_iban_account_and_bic_are_accepted_and_masked(client, contractor):
    r = await client.post(BASE, headers=contractor.headers, json={
        "accountHolderName": "Ada Lovelace", "bankName": "Commerzbank", "currency": "EUR",
        "country": "DE", "iban": "de89 3704 0044 0532 0130 00", "swiftCode": "COBADEFFXXX"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["iban"] == "****3000" and body["accountNumber"] is None
    assert body["swiftCode"] == "COBADEFFXXX"


async def test_holder_name_must_match_the_legal_name(client, contractor):
    await complete_profile(client, contractor, legalName="José Núñez")
    same = await add_us_account(client, contractor, accountHolderName="jose  NUNEZ")
    assert same["nameMismatch"] is False
    other = await add_us_account(client, contractor, accountHolderName="Someone Else",
                                 accountNumber="987654321")
    assert other["nameMismatch"] is True and other["isPrimary"] is False


async def test_primary_switch_and_delete(client, app, contractor):
    first = await add_us_account(client, contractor)
    second = await add_us_account(client, contractor, accountNumber="555566667777")
    assert first["isPrimary"] and not second["isPrimary"]
    r = await client.post(f"{BASE}/{second['id']}/primary", headers=contractor.headers)
    assert r.status_code == 200 and r.json()["isPrimary"] is True
    listed = {a["id"]: a["isPrimary"] for a in
              (await client.get(BASE, headers=contractor.headers)).json()}
    assert listed == {first["id"]: False, second["id"]: True}
    details = (await client.get("/api/contractors/me/bank-details",
                                headers=contractor.headers)).json()
    assert details["id"] == second["id"] and details["accountNumber"] == "****7777"

    assert (await client.delete(f"{BASE}/{second['id']}",
                                headers=contractor.headers)).status_code == 204
    remaining = (await client.get(BASE, headers=contractor.headers)).json()
    assert [(a["id"], a["isPrimary"]) for a in remaining] == [(first["id"], True)]
    raw = await _raw_row(app, second["id"])
    assert raw["account_number_enc"] is None and raw["deleted_at"] is not None


async def test_put_bank_details_creates_then_replaces_the_primary(client, app, contractor):
    missing = await client.get("/api/contractors/me/bank-details", headers=contractor.headers)
    assert missing.status_code == 404
    body = {"bankName": "National Bank of Egypt", "accountNumber": "123456789012",
            "routingNumber": "123456789", "currency": "USD", "country": "EG"}
    r = await client.put("/api/contractors/me/bank-details", headers=contractor.headers,
                         json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": r.json()["id"], "bankName": "National Bank of Egypt",
                        "accountNumber": "****9012", "routingNumber": "****6789",
                        "currency": "USD", "status": "pending_verification",
                        "createdAt": r.json()["createdAt"]}
    first_amounts = statement_amounts(app, r.json()["id"])
    r2 = await client.put("/api/contractors/me/bank-details", headers=contractor.headers,
                          json={**body, "accountNumber": "999988887777"})
    assert r2.json()["id"] == r.json()["id"] and r2.json()["accountNumber"] == "****7777"
    assert len(app.state.micro_deposit_sender.statement(uuid.UUID(r.json()["id"]))) == 4
    assert len(first_amounts) == 2
    assert len((await client.get(BASE, headers=contractor.headers)).json()) == 1


async def test_another_contractors_account_is_not_found(client, app, contractor, other):
    mine = await add_us_account(client, contractor)
    a, b = statement_amounts(app, mine["id"])
    for method, path, json in (
        ("POST", f"{BASE}/{mine['id']}/verify", {"amounts": [a, b]}),
        ("POST", f"{BASE}/{mine['id']}/primary", None),
        ("DELETE", f"{BASE}/{mine['id']}", None),
    ):
        r = await client.request(method, path, headers=other.headers, json=json)
        assert r.status_code == 404, (method, path)
        assert r.json()["code"] == "bank_account_not_found"
    assert (await client.get(BASE, headers=other.headers)).json() == []
    still = (await client.get(BASE, headers=contractor.headers)).json()
    assert still[0]["status"] == "pending_verification"


async def test_rotation_reencrypts_and_old_ciphertexts_still_decrypt(client, app, contractor,
                                                                    settings):
    account = await add_us_account(client, contractor)
    a, b = statement_amounts(app, account["id"])
    await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                      json={"amounts": [a, b]})
    before = await _raw_row(app, account["id"])
    old_ring = crypto.current_keyring()
    new_ring = crypto.KeyRing.from_entries(
        [crypto.generate_master_key(), *(f"{k}:{_b64(v)}" for k, v in old_ring.keys.items())])
    crypto.use_keyring(new_ring)
    try:
        async with app.state.db.session() as session:
            cid = (await session.get(BankAccount, uuid.UUID(account["id"]))).contractor_id
            # Old ciphertexts decrypt with the new ring (the old key is still in it).
            assert (await service.payout_account(session, cid)).account_number == ACCOUNT
        async with app.state.db.session() as session:
            report = await crypto.rotate_all(session)
        assert report.data_keys_rewrapped >= 1
        async with app.state.db.session() as session:
            payout = await service.payout_account(session, cid)
        assert payout.account_number == ACCOUNT and payout.routing_number == ABA
        assert ACCOUNT not in repr(payout)
        after = await _raw_row(app, account["id"])
        assert after["account_number_enc"] == before["account_number_enc"]  # DEK re-wrapped
        # Only the newest key is needed now.
        crypto.use_keyring(crypto.KeyRing.from_entries(
            [f"{new_ring.current}:{_b64(new_ring.keys[new_ring.current])}"]))
        async with app.state.db.session() as session:
            assert (await service.payout_account(session, cid)).account_number == ACCOUNT
    finally:
        crypto.use_keyring(old_ring)


def _b64(key: bytes) -> str:
    import base64

    return base64.b64encode(key).decode()


async def test_a_verified_account_with_a_name_mismatch_cannot_be_paid(client, app, contractor):
    await complete_profile(client, contractor)
    account = await add_us_account(client, contractor, accountHolderName="Mallory Doe")
    assert account["nameMismatch"] is True
    ok = await client.post(f"{BASE}/{account['id']}/verify", headers=contractor.headers,
                           json={"amounts": statement_amounts(app, account["id"])})
    assert ok.json()["status"] == "verified"
    cid = uuid.UUID((await client.get("/api/contractors/me", headers=contractor.headers)
                     ).json()["id"])
    async with app.state.db.session() as session:
        with pytest.raises(DomainError) as refused:
            await service.payout_account(session, cid, uuid.UUID(account["id"]))
    assert refused.value.code == "bank_account_name_mismatch"
    onboarding = (await client.get("/api/contractors/me/onboarding",
                                   headers=contractor.headers)).json()
    assert "account holder name does not match your legal name" in \
        onboarding["steps"][2]["validationErrors"]


async def test_without_a_micro_deposit_sender_accounts_cannot_be_added(client, app, contractor):
    app.state.micro_deposit_sender = None  # production before payments brings a real sender
    r = await client.post(BASE, headers=contractor.headers, json={
        "accountHolderName": "Ada Lovelace", "bankName": "B", "currency": "EUR",
        "country": "DE", "iban": IBAN_DE})
    assert r.status_code == 503 and r.json()["code"] == "micro_deposits_unavailable"
    assert (await client.get(BASE, headers=contractor.headers)).json() == []


@pytest.mark.race
async def test_concurrent_first_accounts_make_exactly_one_primary(client, contractor):
    import asyncio

    bodies = [{"accountHolderName": "Ada Lovelace", "bankName": f"Bank {i}", "currency": "USD",
               "country": "US", "accountNumber": f"11112222{i:04d}", "routingNumber": ABA}
              for i in range(4)]
    responses = await asyncio.gather(*(client.post(BASE, headers=contractor.headers, json=b)
                                       for b in bodies))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    listed = (await client.get(BASE, headers=contractor.headers)).json()
    assert len(listed) == 4 and sum(a["isPrimary"] for a in listed) == 1

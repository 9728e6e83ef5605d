"""Standalone verifier for the Mind-Links journal: entry hashes, digests and Merkle proofs.

This module imports nothing but the standard library and nothing from the application, so a
client, an auditor or a counterparty can copy this one file and check what the server hands
out without trusting the server. Everything here is a pure function of its inputs.

It also checks a downloaded monthly statement (the JSON form of
``GET /api/payments/{contractor|client}/me/statements``) against a digest the user kept::

    python -m mindlinks.ledger.verifier statement.json --digest digest.json
    python verifier.py statement.json --digest digest.json      # the copied file
    python verifier.py 2026-10.json --digest d.json --previous 2026-09.json   # chained

Exit status 0 when every check passes, 1 when one fails (each failure is printed), 2 when a
file cannot be read.

Hashes (all SHA-256, see docs/ledger.md):

- ``payload_hash = SHA-256(canonical payload bytes)``
- ``entry_hash = SHA-256(prev_hash ‖ u64be(seq) ‖ u16be(len(type)) ‖ type ‖ payload_hash
  ‖ i64be(recorded_at in microseconds since the Unix epoch, UTC))``; the first entry's
  ``prev_hash`` is 32 zero bytes.
- Merkle tree (RFC 6962 / RFC 9162 §2.1): leaf ``i`` is ``SHA-256(0x00 ‖ entry_hash of seq i+1)``,
  an interior node is ``SHA-256(0x01 ‖ left ‖ right)``; a digest at ``seq = n`` carries the root
  over the first ``n`` entries and the ``entry_hash`` of entry ``n`` (``tipHash``).

The proof checks follow RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) literally.
A proof is only meaningful against a digest the caller already trusts (one it exported
earlier, or obtained out of band): the ``*_against`` helpers take that trusted digest as an
argument and never take the tree size or the root from the proof itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

HASH_SIZE = 32
GENESIS_PREV_HASH = bytes(HASH_SIZE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = [
    "GENESIS_PREV_HASH",
    "HASH_SIZE",
    "compute_entry_hash",
    "compute_payload_hash",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "recorded_at_micros",
    "verify_consistency",
    "verify_consistency_against",
    "verify_entry",
    "verify_inclusion",
    "verify_inclusion_against",
    "verify_statement",
    "verify_statement_chain",
]


# --- entry hashes -------------------------------------------------------------------------


def recorded_at_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware timestamp (the form that is hashed)."""
    if value.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def compute_payload_hash(canonical_payload: bytes) -> bytes:
    return hashlib.sha256(canonical_payload).digest()


def compute_entry_hash(
    prev_hash: bytes, seq: int, entry_type: str, payload_hash: bytes, recorded_at_us: int
) -> bytes:
    """The chained hash of one journal entry (fixed-width fields, length-prefixed type)."""
    if len(prev_hash) != HASH_SIZE or len(payload_hash) != HASH_SIZE:
        raise ValueError("prev_hash and payload_hash must be 32 bytes")
    etype = entry_type.encode("utf-8")
    return hashlib.sha256(
        prev_hash
        + seq.to_bytes(8, "big")
        + len(etype).to_bytes(2, "big")
        + etype
        + payload_hash
        + recorded_at_us.to_bytes(8, "big", signed=True)
    ).digest()


def _parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def verify_entry(entry: Mapping[str, Any]) -> bool:
    """Recompute one entry as served by ``GET /api/ledger/entries/{seq}``.

    Checks that ``payloadHash`` is the hash of ``payloadCanonical`` and that ``entryHash``
    follows from the other fields. It does not check the link to the previous entry; an
    inclusion proof against a trusted digest does that for the whole prefix at once.
    """
    try:
        canonical = str(entry["payloadCanonical"]).encode("utf-8")
        payload_hash = bytes.fromhex(entry["payloadHash"])
        prev = bytes.fromhex(entry["prevHash"])
        stated = bytes.fromhex(entry["entryHash"])
        micros = recorded_at_micros(_parse_time(entry["recordedAt"]))
        if compute_payload_hash(canonical) != payload_hash:
            return False
        recomputed = compute_entry_hash(
            prev, int(entry["seq"]), str(entry["entryType"]), payload_hash, micros
        )
    except (KeyError, TypeError, ValueError):
        return False
    return recomputed == stated


# --- Merkle tree (RFC 6962) ---------------------------------------------------------------


def leaf_hash(entry_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(entry_hashes: Iterable[bytes]) -> bytes:
    """MTH over the given entry hashes, streaming in O(log n) memory.

    Keeps the perfect subtrees of the binary decomposition of the count so far; at the end
    they are folded right to left, which is exactly RFC 6962's split at the largest power of
    two below n. The empty tree's root is SHA-256 of the empty string.
    """
    stack: list[tuple[int, bytes]] = []
    for eh in entry_hashes:
        size, h = 1, leaf_hash(eh)
        while stack and stack[-1][0] == size:
            left = stack.pop()[1]
            h = node_hash(left, h)
            size *= 2
        stack.append((size, h))
    if not stack:
        return hashlib.sha256(b"").digest()
    root = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        root = node_hash(h, root)
    return root


def _hashes(path: Sequence[bytes | str]) -> list[bytes] | None:
    out = []
    for p in path:
        try:
            b = bytes.fromhex(p) if isinstance(p, str) else bytes(p)
        except ValueError:
            return None
        if len(b) != HASH_SIZE:
            return None
        out.append(b)
    return out


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes | str], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: is ``leaf`` (a leaf hash) at ``leaf_index`` of the tree with ``root``?"""
    hashes = _hashes(path) if _is_hash_list(path) else None
    if hashes is None or not 0 <= leaf_index < tree_size or len(leaf) != HASH_SIZE:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in hashes:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    path: Sequence[bytes | str],
) -> bool:
    """RFC 9162 §2.1.4.2: does the tree of size ``second`` extend the one of size ``first``?"""
    hashes = _hashes(path) if _is_hash_list(path) else None
    if hashes is None or not 0 < first <= second:
        return False
    if first == second:
        return not hashes and first_root == second_root
    if not hashes:
        return False
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        hashes = [first_root, *hashes]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def _is_hash_list(path: object) -> bool:
    return isinstance(path, list | tuple) and all(isinstance(p, str | bytes) for p in path)


# --- against a trusted digest (the forms a client should use) -----------------------------


def _digest_fields(digest: Mapping[str, Any]) -> tuple[int, bytes, bytes]:
    return int(digest["seq"]), bytes.fromhex(digest["merkleRoot"]), bytes.fromhex(digest["tipHash"])


def verify_inclusion_against(
    entry: Mapping[str, Any], proof: Mapping[str, Any], trusted_digest: Mapping[str, Any]
) -> bool:
    """Is ``entry`` (as served by the API) in the journal summarised by ``trusted_digest``?

    The tree size and root come from the trusted digest, never from the proof; the leaf is
    recomputed from the entry's own fields, so a proof for another entry (a wrong leaf), a
    forged or reordered path, or a proof cut short all fail.
    """
    try:
        size, root, tip = _digest_fields(trusted_digest)
        seq = int(entry["seq"])
        if int(proof["seq"]) != seq or int(proof["treeSize"]) != size:
            return False
        if not verify_entry(entry):
            return False
        entry_hash = bytes.fromhex(entry["entryHash"])
        if seq == size and entry_hash != tip:
            return False
        return verify_inclusion(seq - 1, size, leaf_hash(entry_hash), proof["auditPath"], root)
    except (KeyError, TypeError, ValueError):
        return False


def verify_consistency_against(
    old_digest: Mapping[str, Any], new_digest: Mapping[str, Any], proof: Mapping[str, Any]
) -> bool:
    """Does the journal of ``new_digest`` extend the one of ``old_digest``, unchanged?

    Both digests are the caller's own (exported earlier, or just fetched and about to be
    trusted); the proof contributes only its path.
    """
    try:
        first, first_root, _ = _digest_fields(old_digest)
        second, second_root, _ = _digest_fields(new_digest)
        if int(proof["fromSeq"]) != first or int(proof["toSeq"]) != second:
            return False
        return verify_consistency(first, second, first_root, second_root, proof["proof"])
    except (KeyError, TypeError, ValueError):
        return False


# --- monthly statements -------------------------------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer amount")
    return value


def _exponent(pairs: Sequence[tuple[Any, int]]) -> int | None:
    """The one number of decimals (0-4) under which every shown amount equals its minor-unit
    twin; None when there is none (a shown amount was edited on its own)."""
    for exponent in range(5):
        try:
            if all(Decimal(str(shown)).scaleb(exponent) == minor for shown, minor in pairs):
                return exponent
        except (InvalidOperation, ValueError):
            return None
    return None


def _line_problems(line: Mapping[str, Any], entry: Mapping[str, Any] | None,
                   proof: Mapping[str, Any] | None, body: Mapping[str, Any],
                   trusted: Mapping[str, Any], period: tuple[datetime, datetime]) -> list[str]:
    seq = line.get("seq")
    where = f"line seq {seq}"
    if entry is None or proof is None:
        return [f"{where}: the statement carries no journal entry or proof for it"]
    if int(entry.get("seq", -1)) != seq:
        return [f"{where}: the entry is journal entry {entry.get('seq')}"]
    full_proof = {"seq": proof.get("seq"), "treeSize": proof.get("treeSize"),
                  "auditPath": proof.get("auditPath")}
    if not verify_inclusion_against(entry, full_proof, trusted):
        return [f"{where}: the entry or its inclusion proof does not verify against your digest"]
    problems = []
    payload = json.loads(entry["payloadCanonical"])
    if entry.get("entryType") != "payment_event":
        problems.append(f"{where}: journal entry is a {entry.get('entryType')!r}, not a movement")
    side = "creditAccountId" if line.get("direction") == "credit" else "debitAccountId"
    if line.get("direction") not in ("credit", "debit"):
        problems.append(f"{where}: direction {line.get('direction')!r}")
    expected = {"transferId": str(line.get("transferId")), "amountMinor": line.get("amountMinor"),
                "currency": body.get("currency"), side: str(body.get("accountId"))}
    for key, value in expected.items():
        if payload.get(key) != value:
            problems.append(f"{where}: {key} is {value!r} on the statement but "
                            f"{payload.get(key)!r} in the journal")
    recorded = _parse_time(entry["recordedAt"])
    if not period[0] <= recorded < period[1]:
        problems.append(f"{where}: recorded {entry['recordedAt']}, outside the statement's month")
    if _parse_time(line.get("recordedAt", "")) != recorded:
        problems.append(f"{where}: its date differs from the journal entry's")
    return problems


def verify_statement(statement: Mapping[str, Any], trusted_digest: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a downloaded statement, checked against a digest you trust
    (an empty list: it verifies). Checks, in order:

    1. the statement was made against your digest (same seq, Merkle root and tip hash) -
       otherwise download it again with ``?digestSeq=<your digest's seq>``;
    2. every line's journal entry hashes to its ``entryHash`` and is in your digest's tree
       (RFC 6962 inclusion proof), is a ``payment_event`` recorded within the month, and
       names the line's transfer, amount, currency and this account on the line's side;
    3. the seqs are strictly increasing (no line twice), and opening + credits - debits gives
       every line's running balance, the totals and the closing balance; the shown amounts
       agree with the minor-unit ones.

    What it cannot prove: that no movement was left out (the journal has no per-account
    index). Chain statements: each month's opening must be the previous month's closing.
    """
    try:
        size, root, tip = _digest_fields(trusted_digest)
        body, journal = statement["statement"], statement["journal"]
        made = journal["digest"]
        if (int(made["seq"]), made["merkleRoot"], made["tipHash"]) != (size, root.hex(),
                                                                         tip.hex()):
            return [f"the statement was made against digest seq {made['seq']}, not your digest "
                    f"(seq {size}): download it with ?digestSeq={size}"]
        entries = {int(e["seq"]): e for e in journal["entries"]}
        proofs = {int(p["seq"]): p for p in journal["proofs"]}
        period = (_parse_time(body["periodStart"]), _parse_time(body["periodEnd"]))
        problems: list[str] = []
        running = opening = _int(body["openingBalanceMinor"])
        credits = debits = 0
        last_seq = 0
        shown: list[tuple[Any, int]] = [(body["openingBalance"], opening),
                                        (body["closingBalance"],
                                         _int(body["closingBalanceMinor"]))]
        for line in body["lines"]:
            seq, amount = _int(line["seq"]), _int(line["amountMinor"])
            if seq <= last_seq:
                problems.append(f"line seq {seq}: lines must be in strictly increasing seq order")
            last_seq = max(last_seq, seq)
            if amount <= 0:
                problems.append(f"line seq {seq}: amount {amount} is not positive")
            problems += _line_problems(line, entries.get(seq), proofs.get(seq), body,
                                       trusted_digest, period)
            if line.get("direction") == "credit":
                running, credits = running + amount, credits + amount
            else:
                running, debits = running - amount, debits + amount
            if _int(line["balanceAfterMinor"]) != running:
                problems.append(f"line seq {seq}: balance after is {line['balanceAfterMinor']}, "
                                f"opening and the movements give {running}")
            shown += [(line["amount"], amount), (line["balanceAfter"], running)]
        if (_int(body["totalCreditsMinor"]), _int(body["totalDebitsMinor"])) != (credits,
                                                                                   debits):
            problems.append(f"totals: statement says credits {body['totalCreditsMinor']} / "
                            f"debits {body['totalDebitsMinor']}, the lines give {credits} / "
                            f"{debits}")
        if _int(body["closingBalanceMinor"]) != running:
            problems.append(f"closing balance {body['closingBalanceMinor']} != opening "
                            f"{opening} + credits {credits} - debits {debits} = {running}")
        if _exponent(shown) is None:
            problems.append("a shown amount differs from its minor-unit amount")
        return problems
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"not a statement this verifier understands: {exc}"]


def verify_statement_chain(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Does ``current`` continue ``previous``: the same account, type and currency, the next
    period, and an opening balance equal to the previous closing one? (Each statement is
    checked against a digest with ``verify_statement``; this checks the link between them.)"""
    try:
        before, after = previous["statement"], current["statement"]
        problems = []
        for key in ("type", "accountId", "ownerId", "currency"):
            if before[key] != after[key]:
                problems.append(f"{key} differs: {before[key]!r} then {after[key]!r}")
        if _parse_time(before["periodEnd"]) != _parse_time(after["periodStart"]):
            problems.append(f"{after['month']} does not follow {before['month']}")
        if not before.get("complete", False):
            problems.append(f"the statement of {before['month']} was made before its month ended")
        if _int(before["closingBalanceMinor"]) != _int(after["openingBalanceMinor"]):
            problems.append(f"opening balance {after['openingBalanceMinor']} of {after['month']} "
                            f"!= closing balance {before['closingBalanceMinor']} of "
                            f"{before['month']}")
        return problems
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"not a statement this verifier understands: {exc}"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mindlinks.ledger.verifier",
        description="Check a Mind-Links statement (JSON) against a journal digest you kept.")
    parser.add_argument("statement", help="statement.json (format=json)")
    parser.add_argument("--digest", required=True,
                        help="digest.json: `mindlinks ledger digest` or GET /api/ledger/digest")
    parser.add_argument("--previous", help="last month's statement.json (verified earlier): "
                        "this month must open with its closing balance")
    args = parser.parse_args(argv)
    try:
        with open(args.statement, encoding="utf-8") as f:
            statement = json.load(f)
        with open(args.digest, encoding="utf-8") as f:
            digest = json.load(f)
        previous = None
        if args.previous:
            with open(args.previous, encoding="utf-8") as f:
                previous = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = verify_statement(statement, digest)
    if previous is not None:
        problems += verify_statement_chain(previous, statement)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        return 1
    body = statement["statement"]
    print(f"OK {body['type']} {body['month']} {body['currency']}: {len(body['lines'])} "
          f"line(s), opening {body['openingBalanceMinor']} + credits "
          f"{body['totalCreditsMinor']} - debits {body['totalDebitsMinor']} = closing "
          f"{body['closingBalanceMinor']} (minor units), every line proven in digest seq "
          f"{digest['seq']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

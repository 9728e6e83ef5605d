"""Statement routes (contractor wallet, client escrow): JSON, CSV or PDF of one month.

The format is the `format` query parameter when given, else the media type `Accept` rates
highest among `application/json`, `text/csv` and `application/pdf` (q-values honoured), else
JSON (the verifiable form). No queries and no rules here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from mindlinks.payments import statement_documents as documents
from mindlinks.payments import statements
from mindlinks.payments.schemas import Currency
from mindlinks.payments.statement_schemas import StatementOut
from mindlinks.platform.api import MAX_INT64, SessionDep, domain_router
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.security import CurrentClient, CurrentContractor

Format = Literal["json", "csv", "pdf"]
MonthQuery = Annotated[str, Query(min_length=1, max_length=32, description="YYYY-MM (UTC)")]
CurrencyQuery = Annotated[Currency | None, Query(description="Default: the main currency")]
DigestSeqQuery = Annotated[int | None, Query(
    alias="digestSeq", ge=0, le=MAX_INT64,
    description="Prove the lines against the digest at this seq (one you kept)")]
FormatQuery = Annotated[Format | None, Query(alias="format")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}, "text/csv": {}}}}

contractor = domain_router(prefix="/api/payments/contractor/me", tags=["Payment Service"])
client = domain_router(prefix="/api/payments/client/me", tags=["Payment Service"])


MEDIA: dict[str, Format] = {"application/json": "json", "text/csv": "csv",
                            "application/pdf": "pdf"}


def _format(request: Request, chosen: Format | None) -> Format:
    """`format` if given, else the media type `Accept` rates highest among JSON, CSV and PDF
    (q-values honoured; a tie or a wildcard keeps JSON, the verifiable form)."""
    if chosen is not None:
        return chosen
    best: tuple[float, int, Format] = (0.0, 0, "json")
    for part in request.headers.get("accept", "").lower().split(",")[:20]:
        media, *params = (p.strip() for p in part.split(";"))
        if media not in MEDIA:
            continue
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        rank = (q, int(MEDIA[media] == "json"), MEDIA[media])
        if q > 0 and rank > best:
            best = rank
    return best[2]


async def _answer(data: StatementOut, fmt: Format) -> StatementOut | Response:
    s = data.statement
    name = f"statement-{s.type.replace('_', '-')}-{s.month}-{s.currency}"
    headers = {"Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(documents.render_csv(data), media_type="text/csv; charset=utf-8",
                        headers={**headers,
                                 "Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "pdf":
        return Response(await run_cpu(documents.render_pdf, data), media_type="application/pdf",
                        headers={**headers,
                                 "Content-Disposition": f'attachment; filename="{name}.pdf"'})
    return data


@contractor.get("/statements", response_model=StatementOut, responses=RESPONSES)
async def contractor_statement(request: Request, session: SessionDep, actor: CurrentContractor,
                               month: MonthQuery, currency: CurrencyQuery = None,
                               digest_seq: DigestSeqQuery = None,
                               fmt: FormatQuery = None) -> Any:
    owner = await statements.contractor_owner(session, actor)
    data = await statements.statement(session, owner, month, currency=currency,
                                      digest_seq=digest_seq)
    return await _answer(data, _format(request, fmt))


@client.get("/statements", response_model=StatementOut, responses=RESPONSES)
async def client_statement(request: Request, session: SessionDep, actor: CurrentClient,
                           month: MonthQuery, currency: CurrencyQuery = None,
                           digest_seq: DigestSeqQuery = None, fmt: FormatQuery = None) -> Any:
    owner = await statements.client_owner(session, actor)
    data = await statements.statement(session, owner, month, currency=currency,
                                      digest_seq=digest_seq)
    return await _answer(data, _format(request, fmt))


routers = [contractor, client]

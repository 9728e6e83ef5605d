"""Currency conversion in the book: two linked transfers through the platform's FX liquidity
accounts, and the spread as its own transfer (after TigerBeetle's "FX = two linked transfers
on each ledger, spread as a separate linked transfer").

    source (S) --converted--> fx_liquidity (S)           code fx_conversion   {ref}:fx:out
    source (S) --spread-----> platform_fee_revenue (S)   code fx_spread       {ref}:fx:spread
    fx_liquidity (T) --target_amount--> target (T)       code fx_conversion   {ref}:fx:in

Each transfer is balanced within its currency, so the book still sums to zero per currency; the
FX liquidity accounts (may go negative) carry the platform's position in each currency. The
three are made in one savepoint: all or none (a short source refuses the whole conversion with
`insufficient_funds`). Replaying the same reference returns the first conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import book
from mindlinks.payments.models import Account, Purpose, Transfer

CONVERSION_CODE = "fx_conversion"
SPREAD_CODE = "fx_spread"


@dataclass(frozen=True, slots=True)
class Conversion:
    out: Transfer
    spread: Transfer | None
    into: Transfer


async def convert(session: AsyncSession, *, source: Account, target: Account, converted: int,
                  spread: int, target_amount: int, reference: str) -> Conversion:
    """Move `converted + spread` minor units out of `source` and `target_amount` minor units
    of the other currency into `target`. `converted` and `target_amount` are positive,
    `spread` is not negative; the rate that links them is the caller's (a locked quote)."""
    if source.currency == target.currency:
        raise book.CurrencyMismatch("A conversion is between two currencies")
    if isinstance(spread, bool) or not isinstance(spread, int) or spread < 0:
        raise book.InvalidAmount("The spread is a non-negative integer of minor units")
    out_pool = await book.account(session, "platform", None, Purpose.FX_LIQUIDITY,
                                  source.currency)
    in_pool = await book.account(session, "platform", None, Purpose.FX_LIQUIDITY,
                                 target.currency)
    async with session.begin_nested():
        out = await book.transfer(session, debit=source, credit=out_pool, amount=converted,
                                  code=CONVERSION_CODE, reference=f"{reference}:fx:out")
        fee = None
        if spread:
            revenue = await book.account(session, "platform", None,
                                         Purpose.PLATFORM_FEE_REVENUE, source.currency)
            fee = await book.transfer(session, debit=source, credit=revenue, amount=spread,
                                      code=SPREAD_CODE, reference=f"{reference}:fx:spread")
        into = await book.transfer(session, debit=in_pool, credit=target, amount=target_amount,
                                   code=CONVERSION_CODE, reference=f"{reference}:fx:in")
    return Conversion(out, fee, into)

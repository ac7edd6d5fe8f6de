"""Pledge rows as polars frames: what `PledgeLoad.add` and the record builder do to one row,
done to a chunk of rows the frame validator proved valid.

`prepare` gives each row its ids, defaults and value in EUR cents, and sends to the row path
(`PledgeLoad.add`, which gives the messages) every row that `add` might refuse or treat
specially: not a donor, another nation's pledge for a national desk, an implausibly early
availability, no external id (the derived id is computed there), a status a new pledge
cannot start in, or a value too large for exact integer arithmetic here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from coalition.io.frames import ROW
from coalition.io.specs import PledgeRow

if TYPE_CHECKING:
    from coalition.io.importers.pledges import Candidate, PledgeLoad

_PLAIN = r"^([0-9]+)(?:\.([0-9]*))?$"
# amount x rate is exact in Python's 28-digit decimal context below this many (cents x 1e8):
# then round-half-up to the cent is integer arithmetic.
_EXACT_PRODUCT = 10**27
# Dates this early make `announced_on - _PLAUSIBLE_LEAD` overflow in Python: the row path.
_EARLIEST = dt.date(100, 1, 1)


def scaled(text: pl.Expr, places: int) -> pl.Expr:
    """A plain decimal's text as an integer of 10**-places units (Int128); null for any
    other shape or for more places than that."""
    whole = text.str.extract(_PLAIN, 1).cast(pl.Int128, strict=False)
    digits = text.str.extract(_PLAIN, 2).fill_null("").str.strip_chars_end("0")
    fraction = digits.str.pad_end(places, "0").cast(pl.Int128, strict=False).fill_null(0)
    units: pl.Expr = whole * 10**places + fraction
    return pl.when(digits.str.len_chars() <= places).then(units)


def prepare(load: PledgeLoad, clean: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """(rows ready to store, row numbers for the row path)."""
    donors = load.donors
    codes = list(donors)
    donor_id = pl.col("donor").replace_strict(codes, [donors[c][0] for c in codes],
                                              default=None, return_dtype=pl.Int64)
    is_donor = pl.col("donor").replace_strict(codes, [donors[c][1] for c in codes],
                                              default=False, return_dtype=pl.Boolean)
    items = load.items
    item_id = pl.col("item_type").replace_strict(list(items), list(items.values()),
                                                 default=None, return_dtype=pl.Int64)
    formats = load.formats
    format_id = pl.when(pl.col("format").is_null()).then(
        pl.lit(load.default_format, dtype=pl.Int64)).otherwise(
        pl.col("format").replace_strict(list(formats), list(formats.values()), default=None,
                                        return_dtype=pl.Int64))
    announced = pl.col("announced_on")
    frame = clean.with_columns(
        donor_id.alias("donor_id"), is_donor.alias("_is_donor"), item_id.alias("item_type_id"),
        format_id.alias("format_id"),
        pl.col("fx_rate_to_eur").fill_null("1"),
        pl.col("fx_date").fill_null(announced),
        pl.col("available_from").fill_null(announced),
    ).with_columns(
        (scaled(pl.col("amount"), 2) * scaled(pl.col("fx_rate_to_eur"), 8)).alias("_product"))
    from coalition.io.importers.pledges import _NEW_STATUSES, _PLAUSIBLE_LEAD

    startable = pl.Series(sorted(_NEW_STATUSES)).implode()
    routed = (
        ~pl.col("_is_donor")
        | pl.col("external_id").is_null()
        | (pl.col("status").is_not_null() & ~pl.col("status").is_in(startable))
        | (announced < _EARLIEST)
        | (pl.col("available_from") < announced - pl.duration(days=_PLAUSIBLE_LEAD.days))
        | pl.col("_product").is_null() | (pl.col("_product") >= _EXACT_PRODUCT)
    )
    if load.own_nation is not None:
        routed |= pl.col("donor_id") != load.own_nation
    if load.own_formats is not None:
        routed |= ~pl.col("format_id").is_in(sorted(load.own_formats))
    frame = frame.with_columns(routed.fill_null(True).alias("_routed"))
    ready = frame.filter(~pl.col("_routed")).with_columns(
        ((pl.col("_product") + 50_000_000) // 100_000_000).cast(pl.Int64)
        .alias("value_eur_cents"),
        pl.col("status").alias("status_given"),
        pl.col("status").fill_null("announced"),
    ).drop("_product", "_is_donor", "_routed")
    return ready, frame.filter(pl.col("_routed")).get_column(ROW)


def candidates(frame: pl.DataFrame) -> list[Candidate]:
    """Prepared rows as the row path's candidates (for comparing with stored pledges and
    for naming duplicates): the records `RowValidator` would have built."""
    found: list[Candidate] = []
    for r in frame.iter_rows(named=True):
        row = PledgeRow(
            r["external_id"], r["donor"], r["item_type"], r["quantity"], Decimal(r["amount"]),
            r["currency"], Decimal(r["fx_rate_to_eur"]), r["fx_date"], r["funding"],
            r["available_from"], r["releasability"], r["status_given"], r["announced_on"],
            r["format"], r["parent_external_id"], r["notes"])
        found.append((r[ROW], r["external_id"], row, r["donor_id"], r["item_type_id"],
                      r["format_id"], r["value_eur_cents"]))
    return found

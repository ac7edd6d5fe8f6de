"""Money as integer euro cents: conversion from source amounts, never through floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(euros: Decimal) -> int:
    return int((euros / CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def convert_to_eur_cents(amount: Decimal, fx_rate_to_eur: Decimal) -> int:
    """Amount in its own currency times the rate to EUR, rounded half-up to the cent."""
    return to_cents(amount * fx_rate_to_eur)

"""The Kiel Institute's Ukraine Support Tracker workbook, read into canonical records."""

from coalition.io.kiel.donors import DonorKind, resolve_donor
from coalition.io.kiel.layout import LAYOUTS, RELEASE_7, AidType, KielLayout
from coalition.io.kiel.reader import (
    Amounts,
    KielReader,
    KielRecord,
    KielSkip,
    Reconciliation,
    SkipReason,
    read_kiel,
    reconcile_kiel,
)

__all__ = [
    "LAYOUTS",
    "RELEASE_7",
    "AidType",
    "Amounts",
    "DonorKind",
    "KielLayout",
    "KielReader",
    "KielRecord",
    "KielSkip",
    "Reconciliation",
    "SkipReason",
    "read_kiel",
    "reconcile_kiel",
    "resolve_donor",
]

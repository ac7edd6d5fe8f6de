"""Synthetic volume for load tests: N pledges (and N/10 requirements) inserted in bulk.

Rows are built as plain tuples and inserted with executemany in batches: the ORM's per-object
bookkeeping would cost more than the database itself at 100,000 rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.access import audit
from coalition.access.actor import SYSTEM
from coalition.access.labels import Releasability
from coalition.catalog.models import ItemType
from coalition.db import utcnow
from coalition.money import from_cents
from coalition.pledges.models import FundingMechanism, Pledge, PledgeStatus, PledgeTransition
from coalition.registry.models import Format, Participant
from coalition.requirements.models import Requirement, RequirementStatus

BATCH = 5_000
LABELS = [Releasability.COALITION] * 7 + [Releasability.PUBLIC, Releasability.NATO,
                                          Releasability.NATIONAL]


def add_synthetic(session: Session, *, pledges: int, seed: int,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    donors = list(session.scalars(select(Participant.id).where(Participant.is_donor.is_(True))))
    recipient = session.scalar(select(Participant.id).where(Participant.is_recipient.is_(True)))
    items = list(session.execute(select(ItemType.id, ItemType.unit_value_eur_cents,
                                        ItemType.capability_area)
                                 .where(ItemType.unit_value_eur_cents > 0)))
    fmt = session.scalar(select(Format.id).where(Format.code == "UDCG"))
    if not donors or recipient is None or not items:
        raise RuntimeError("load the base demo before adding synthetic volume")
    start = (session.scalar(select(func.max(Pledge.id))) or 0) + 1
    now = utcnow()
    req_start = (session.scalar(select(func.max(Requirement.id))) or 0) + 1
    requirements = [
        {"reference": f"SYN-REQ-{req_start + n:07d}", "recipient_id": recipient,
         "item_type_id": (item := rng.choice(items))[0], "quantity": rng.randint(10, 5000),
         "priority": rng.randint(1, 5),
         "needed_by": dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 900)),
         "capability_area": item[2], "status": RequirementStatus.OPEN, "notes": "",
         "format_id": fmt, "releasability": rng.choice(LABELS), "quantity_committed": 0,
         "quantity_in_transit": 0, "quantity_delivered": 0, "created_at": now,
         "updated_at": now}
        for n in range(pledges // 10)
    ]
    _insert(session, Requirement, requirements)
    # One audit entry for the whole load: counts and a digest of every row, not 100k entries.
    digest = hashlib.sha256()
    for row in requirements:
        digest.update(repr(tuple(row.values())).encode("utf-8"))
    done = 0
    for offset in range(0, pledges, BATCH):
        rows: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for n in range(offset, min(offset + BATCH, pledges)):
            item_id, unit_cents, _area = rng.choice(items)
            qty = rng.randint(1, 2000)
            announced = dt.date(2022, 4, 26) + dt.timedelta(days=rng.randint(0, 1600))
            cents = int(unit_cents or 0) * qty
            rows.append({
                "id": start + n, "external_id": f"SYN-{start + n:08d}",
                "donor_id": rng.choice(donors), "item_type_id": item_id, "quantity": qty,
                "amount": from_cents(cents), "currency": "EUR",
                "fx_rate_to_eur": 1, "fx_date": announced, "value_eur_cents": cents,
                "funding": FundingMechanism.STOCK_DONATION, "parent_pledge_id": None,
                "announced_on": announced,
                "available_from": announced + dt.timedelta(days=rng.randint(0, 200)),
                "format_id": fmt, "releasability": rng.choice(LABELS),
                "status": PledgeStatus.CONFIRMED, "quantity_allocated": 0,
                "quantity_shipped": 0, "quantity_delivered": 0, "notes": "",
                "created_at": now, "updated_at": now,
            })
            history.append({"pledge_id": start + n, "from_status": None,
                             "to_status": PledgeStatus.ANNOUNCED, "at": now,
                             "actor": "synthetic load", "reason": "pledge recorded"})
            history.append({"pledge_id": start + n, "from_status": PledgeStatus.ANNOUNCED,
                             "to_status": PledgeStatus.CONFIRMED, "at": now,
                             "actor": "synthetic load", "reason": "synthetic"})
        _insert(session, Pledge, rows)
        _insert(session, PledgeTransition, history)
        for row in rows:
            digest.update(repr(tuple(row.values())).encode("utf-8"))
        done += len(rows)
        if progress:
            progress(len(rows))
    audit.record(session, actor=SYSTEM, action="demo.synthetic_load", target_type="pledges",
                 target_id=f"{start}-{start + done - 1}",
                 after={"pledges": done, "requirements": len(requirements),
                        "status_history_rows": 2 * done, "sha256": digest.hexdigest()})
    return {"synthetic pledges": done, "synthetic requirements": len(requirements),
            "synthetic status history rows": 2 * done}


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    # Core executemany on the table: the ORM's bulk path ran one statement per history row.
    if rows:
        session.connection().execute(model.__table__.insert(), rows)

"""`coalition demo load`: the whole demo in one transaction, then optional synthetic volume."""

from __future__ import annotations

import os
import random
import secrets
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from coalition.access import passwords
from coalition.access import service as access_service
from coalition.access.actor import SYSTEM
from coalition.access.labels import Role
from coalition.access.models import User
from coalition.catalog import service as catalog_service
from coalition.catalog.schemas import CategoryCreate, ItemTypeCreate
from coalition.db import session_scope
from coalition.demo import scale, scenario
from coalition.demo.catalog_seed import CATEGORIES, item_seeds
from coalition.demo.registry_seed import load_registry
from coalition.registry.models import Format
from coalition.requirements.models import Requirement

# Demo users: one per role, national desks of NATO and non-NATO donors.
DEMO_USERS: list[tuple[str, Role, str | None, str | None]] = [
    ("admin", Role.ADMIN, None, None),
    ("udcg-secretariat", Role.COORDINATOR, None, "UDCG"),
    ("nsatu-secretariat", Role.COORDINATOR, None, "NSATU"),
    ("desk-usa", Role.NATIONAL, "USA", None),
    ("desk-deu", Role.NATIONAL, "DEU", None),
    ("desk-pol", Role.NATIONAL, "POL", None),
    ("desk-nld", Role.NATIONAL, "NLD", None),
    ("desk-jpn", Role.NATIONAL, "JPN", None),
    ("desk-aus", Role.NATIONAL, "AUS", None),
    ("ukr-logistics", Role.RECIPIENT, "UKR", None),
    ("analyst-nld", Role.ANALYST, "NLD", None),
    ("analyst-aut", Role.ANALYST, "AUT", None),
    ("public-observer", Role.OBSERVER, None, None),
]


def load_catalog(session: Session) -> int:
    for code, (name, parent) in CATEGORIES.items():
        catalog_service.create_category(session, actor=SYSTEM,
                                        data=CategoryCreate(code=code, name=name, parent=parent))
    seeds = item_seeds()
    for s in seeds:
        catalog_service.create_item_type(session, actor=SYSTEM, data=ItemTypeCreate(
            code=s.code, name=s.name, unit=s.unit, unit_value_eur=s.unit_value_eur,
            capability_area=s.capability_area, compatibility_group=s.compatibility_group,
            category=s.category, soviet_origin=s.soviet_origin))
    return len(seeds)


def _random_password(user_name: str) -> str:
    while True:
        password = secrets.token_urlsafe(12)
        if user_name.lower() not in password.lower():
            return password


def load_users(session: Session) -> dict[str, str]:
    """Creates the demo users with dashboard passwords; returns the admin's token and the
    passwords for the report (shown once). COALITION_DEMO_PASSWORD, when set, is every demo
    user's password; otherwise each gets a random one."""
    shared = os.environ.get("COALITION_DEMO_PASSWORD")
    shown: dict[str, str] = {}
    for name, role, nation, fmt in DEMO_USERS:
        access_service.create_user(session, actor=SYSTEM, name=name, role=role, nation=nation,
                                   format_code=fmt)
        password = shared or _random_password(name)
        passwords.set_password(session, actor=SYSTEM, user_name=name, password=password)
        if not shared:
            shown[f"password of {name}"] = password
    if shared:
        shown["demo passwords"] = "COALITION_DEMO_PASSWORD (every demo user)"
    admin = access_service.get_user(session, name="admin")
    token = access_service.issue_token(session, actor=SYSTEM, user=admin, label="demo").token
    return {"admin token (shown once)": token, **shown}


def load_base(session: Session, *, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    report: dict[str, Any] = load_registry(session, SYSTEM)
    report["item types"] = load_catalog(session)
    requirements = scenario.make_requirements(session, SYSTEM, rng)
    pledges = scenario.make_pledges(session, SYSTEM, rng)
    pledges += scenario.make_purl(session, SYSTEM, rng)
    scenario.progress(session, SYSTEM, rng, pledges, requirements)
    report["meetings"] = scenario.make_meetings(session, SYSTEM, rng, pledges)
    report["requirements"] = len(requirements)
    report["pledges"] = len(pledges)
    report.update(load_users(session))
    return report


def load(*, scale_pledges: int = 0, seed: int = 2024, engine: Engine | None = None,
         show_progress: bool = True) -> dict[str, Any]:
    """Loads the base demo unless present, then `scale_pledges` synthetic pledges."""
    report: dict[str, Any] = {}
    with session_scope(engine) as session:
        if session.scalar(select(Format.id).where(Format.code == "UDCG")) is None:
            report.update(load_base(session, seed=seed))
        else:
            # The admin token was shown once, at the first load; a new one is one command away.
            report["base demo"] = "already loaded"
            report["admin token"] = "coalition tokens create admin"
    if scale_pledges:
        with session_scope(engine) as session, Progress(disable=not show_progress) as bar:
            task = bar.add_task("synthetic pledges", total=scale_pledges)
            report.update(scale.add_synthetic(
                session, pledges=scale_pledges, seed=seed + scale_count(session),
                progress=lambda n: bar.advance(task, n)))
    return report


def scale_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Requirement)) or 0


def has_users(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(User)) != 0

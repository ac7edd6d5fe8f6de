"""The hand-checked ledger on top of the factories' world."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import World
from tests.service.analytics.ledger import Ledger, build_ledger


@pytest.fixture
def ledger(world: World, session: Session) -> Ledger:
    return build_ledger(session)

"""Imports every table module so metadata is complete (Alembic, tests, backups)."""

from coalition.access import models as access_models
from coalition.catalog import models as catalog_models
from coalition.db import Base
from coalition.logistics import models as logistics_models
from coalition.matching import models as matching_models
from coalition.meetings import models as meetings_models
from coalition.pledges import models as pledges_models
from coalition.registry import models as registry_models
from coalition.requirements import models as requirements_models

__all__ = [
    "Base",
    "access_models",
    "catalog_models",
    "logistics_models",
    "matching_models",
    "meetings_models",
    "pledges_models",
    "registry_models",
    "requirements_models",
]

"""ingest: room on each page for in-place updates of derived counters

Every batch of delivery events rewrites the counters of a thousand or so shipments, lines,
allocations, pledges and requirements, and they sit side by side on the same pages (created in
the same order they move in). On a full page PostgreSQL writes each new row version elsewhere
and adds it to every index of the table (pledges have eight); with room on the page and no
indexed column changed it rewrites the row in place (a HOT update), touching no index. The
fill factor decides that room; on PostgreSQL the status of a pledge loses its index, so that a
pledge moving on (allocated -> shipped -> delivered) is rewritten in place too. The fill factor applies to
pages written from now on; `VACUUM FULL` (which locks the table) gives existing pages the same
room. SQLite has no such setting. The history of pledges loses its foreign key, whose per-row
check cost more than appending the row (see `PledgeTransition`).

Revision ID: 0005_ingest
Revises: 0002_matching
Create Date: 2026-11-25 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005_ingest'
down_revision: str | Sequence[str] | None = '0002_matching'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Half of each page free: a batch moves most rows of the pages it touches at once, and each
# moved row needs room for its new version until the old one is pruned after the commit.
FILL = {"pledges": 50, "allocations": 50, "requirements": 50, "shipments": 50,
        "shipment_lines": 50}
BEFORE = {"pledges": 100, "allocations": 100, "requirements": 100, "shipments": 80,
          "shipment_lines": 80}


def _set(fill: dict[str, int]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in fill.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def upgrade() -> None:
    _set(FILL)
    if op.get_bind().dialect.name == "postgresql":
        # A status change would otherwise never be in place. What matching and the reports
        # read by status is most of the table; a list filtered by a rare status scans it.
        op.drop_index("ix_pledges_status", table_name="pledges")
    # See PledgeTransition: the history of a pledge is appended by writers holding it.
    with op.batch_alter_table("pledge_transitions") as batch:
        batch.drop_constraint("fk_pledge_transitions_pledge_id_pledges", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("pledge_transitions") as batch:
        batch.create_foreign_key("fk_pledge_transitions_pledge_id_pledges", "pledges",
                                 ["pledge_id"], ["id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_pledges_status", "pledges", ["status"], unique=False)
    _set(BEFORE)

"""Tables of matching runs and the proposals they make, with each donor's decision."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.db import Base, BigId, UTCDateTime, str_enum, utcnow
from coalition.pledges.models import Pledge
from coalition.registry.models import Format, Participant


class ProposalStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class MatchRun(Base):
    """One stored solve: who ran it, under which rules, what it achieved.

    `format_id` is the scope the run saw: the coordinator's format (their visibility), or
    None for an administrator's run over everything. Only actors with the same scope read
    the objective, which aggregates over every record of that scope.
    """

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    format_id: Mapped[int | None] = mapped_column(ForeignKey("formats.id"), index=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    objective: Mapped[dict[str, Any]] = mapped_column(JSON)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON)
    requirements: Mapped[int] = mapped_column(Integer)
    pledges: Mapped[int] = mapped_column(Integer)
    pairs: Mapped[int] = mapped_column(BigInteger)
    excluded_pairs: Mapped[int] = mapped_column(Integer)
    proposals: Mapped[int] = mapped_column(Integer)
    quantity_proposed: Mapped[int] = mapped_column(BigInteger)
    superseded: Mapped[int] = mapped_column(Integer)
    # The engine's input arrays (compressed .npz): explanations of this run are rebuilt from
    # them and the stored proposals, exactly, without solving again.
    inputs: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    format: Mapped[Format | None] = relationship(lazy="joined")

    @property
    def scope(self) -> str | None:
        return self.format.code if self.format is not None else None


class Proposal(Base):
    """A proposed allocation of one pledge's quantity to one requirement.

    Only the donor nation decides: approving creates the allocation (`allocation_id`);
    declining excludes the (pledge, requirement) pair from every later run.
    """

    __tablename__ = "match_proposals"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("lateness_days >= 0", name="lateness_not_negative"),
        Index("ix_match_proposals_status_pair", "status", "pledge_id", "requirement_id"),
    )
    # As releasable as its pledge: the donor nation reads the audit entries of its decisions.
    __label_source__ = "pledge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id"), index=True)
    # No single-column indexes on pledge and requirement: (status, pledge, requirement) and
    # run_id serve the queries, and every index costs time on the 30,000-row bulk insert.
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirements.id"))
    # The pledge's donor, copied so that "my nation's proposals" needs no join.
    donor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer)
    lateness_days: Mapped[int] = mapped_column(Integer)
    substitution: Mapped[bool] = mapped_column(Boolean)
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_text: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus, "proposal_status"), default=ProposalStatus.PROPOSED
    )
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"))

    pledge: Mapped[Pledge] = relationship()
    donor: Mapped[Participant] = relationship(lazy="joined")

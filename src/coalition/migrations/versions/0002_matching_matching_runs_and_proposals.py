"""matching: runs and proposals

Stored matching runs (scope, policy, objective, the engine's compressed inputs) and their
proposals with each donor's decision; declined proposals exclude their pair from later runs.

Revision ID: 0002_matching
Revises: 0003_logistics
Create Date: 2026-11-25 10:36:53.310625
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coalition.db

revision: str = '0002_matching'
down_revision: str | Sequence[str] | None = '0003_logistics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('created_at', coalition.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('format_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('objective', sa.JSON(), nullable=False),
    sa.Column('timings', sa.JSON(), nullable=False),
    sa.Column('requirements', sa.Integer(), nullable=False),
    sa.Column('pledges', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.BigInteger(), nullable=False),
    sa.Column('excluded_pairs', sa.Integer(), nullable=False),
    sa.Column('proposals', sa.Integer(), nullable=False),
    sa.Column('quantity_proposed', sa.BigInteger(), nullable=False),
    sa.Column('superseded', sa.Integer(), nullable=False),
    sa.Column('inputs', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['format_id'], ['formats.id'], name=op.f('fk_match_runs_format_id_formats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_runs_format_id'), ['format_id'], unique=False)

    op.create_table('match_proposals',
    sa.Column('id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('pledge_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('requirement_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('donor_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('lateness_days', sa.Integer(), nullable=False),
    sa.Column('substitution', sa.Boolean(), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('reason_text', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'declined', 'superseded', name='proposal_status', native_enum=False, length=32), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', coalition.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.String(length=1000), nullable=True),
    sa.Column('allocation_id', sa.BigInteger().with_variant(sa.BIGINT(), 'postgresql').with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.CheckConstraint('lateness_days >= 0', name=op.f('ck_match_proposals_lateness_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_match_proposals_quantity_positive')),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocations.id'], name=op.f('fk_match_proposals_allocation_id_allocations')),
    sa.ForeignKeyConstraint(['donor_id'], ['participants.id'], name=op.f('fk_match_proposals_donor_id_participants')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_match_proposals_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_match_proposals_requirement_id_requirements')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_proposals_run_id_match_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_proposals'))
    )
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_proposals_donor_id'), ['donor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_proposals_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_match_proposals_status_pair', ['status', 'pledge_id', 'requirement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_match_proposals_status_pair')
        batch_op.drop_index(batch_op.f('ix_match_proposals_run_id'))
        batch_op.drop_index(batch_op.f('ix_match_proposals_donor_id'))

    op.drop_table('match_proposals')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_runs_format_id'))
        batch_op.drop_index(batch_op.f('ix_match_runs_created_at'))

    op.drop_table('match_runs')

"""Plan LP blocks: the last basis (and solution) of each period block per dataset and plan version,
so that reviews start warm (optimizer/plan/decompose.py).

Revision ID: 0004_plan_lp_blocks
Revises: 0003_job_leases
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_plan_lp_blocks'
down_revision = '0003_job_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_lp_blocks',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=50), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('col_status', sa.LargeBinary(), nullable=False),
    sa.Column('row_status', sa.LargeBinary(), nullable=False),
    sa.Column('col_value', sa.LargeBinary(), nullable=True),
    sa.Column('row_dual', sa.LargeBinary(), nullable=True),
    sa.Column('prices', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dataset_id', 'plan_version', 'period')
    )


def downgrade() -> None:
    op.drop_table('plan_lp_blocks')

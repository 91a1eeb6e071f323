"""Jobs owned by a process, with progress; review results apart; benchmarks in their own table.

- `jobs` and `benchmarks` get `owner`, `heartbeat_at` (the owner's lease), `phase`, `progress`
  and `updated_at` (what the worker last reported);
- a review's result moves to `job_results`, so that listing reviews never reads it;
- benchmarks move from `jobs` to `benchmarks` (ids kept), which numbers them on its own.

Revision ID: 0003_job_leases
Revises: 0002_input
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_job_leases'
down_revision = '0002_input'
branch_labels = None
depends_on = None

JOB_COLUMNS = ("id", "kind", "status", "params", "time_limit_s", "created_by", "submitted_at", "started_at",
               "finished_at", "canceled_at", "error", "summary", "result")


def lease_columns() -> list[sa.Column]:
    return [
        sa.Column('owner', sa.String(length=100), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('phase', sa.String(length=100), nullable=True),
        sa.Column('progress', sa.Float(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table('benchmarks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('time_limit_s', sa.Float(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    *lease_columns(),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_benchmarks_status', 'benchmarks', ['status'], unique=False)
    op.create_table('job_results',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id')
    )
    columns = ", ".join(JOB_COLUMNS)
    op.execute(f"INSERT INTO benchmarks ({columns}) SELECT {columns} FROM jobs WHERE kind = 'benchmark'")
    op.execute("INSERT INTO job_results (job_id, result) SELECT id, result FROM jobs "
               "WHERE kind = 'review' AND result IS NOT NULL")
    op.execute("DELETE FROM jobs WHERE kind = 'benchmark'")
    if op.get_bind().dialect.name == "postgresql":  # the copied ids must not be handed out again
        op.execute("SELECT setval(pg_get_serial_sequence('benchmarks', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM benchmarks), 0) + 1, false)")
    # Native DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch rebuild of `jobs` would have to drop
    # the table that `decisions` cascades from.
    op.execute("ALTER TABLE jobs DROP COLUMN result")
    for column in lease_columns():
        op.add_column('jobs', column)


def downgrade() -> None:
    for column in reversed(lease_columns()):
        op.execute(f"ALTER TABLE jobs DROP COLUMN {column.name}")
    op.add_column('jobs', sa.Column('result', sa.JSON(), nullable=True))
    op.execute("UPDATE jobs SET result = (SELECT result FROM job_results WHERE job_results.job_id = jobs.id)")
    columns = ", ".join(JOB_COLUMNS[1:])
    op.execute(f"INSERT INTO jobs ({columns}) SELECT {columns} FROM benchmarks")
    op.drop_table('job_results')
    op.drop_index('ix_benchmarks_status', table_name='benchmarks')
    op.drop_table('benchmarks')

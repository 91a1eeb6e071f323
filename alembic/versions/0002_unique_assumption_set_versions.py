"""Assumption sets: (dataset, name, version) is unique, so concurrent submissions of one name get
distinct versions (the store retries on a conflict). Versions already stored twice (possible on
PostgreSQL before this key) are renumbered first: a later duplicate takes the name's next free
version, in the order the sets were stored.

Revision ID: 0002_input
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_input'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, dataset_id, name, version FROM assumption_sets ORDER BY id")).all()
    taken: dict[tuple, set[int]] = {}
    for set_id, dataset_id, name, version in rows:
        versions = taken.setdefault((dataset_id, name), set())
        if version in versions:
            version = max(versions) + 1
            connection.execute(sa.text("UPDATE assumption_sets SET version = :v WHERE id = :id"),
                               {"v": version, "id": set_id})
        versions.add(version)
    with op.batch_alter_table('assumption_sets', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_assumption_sets_dataset_name_version', ['dataset_id', 'name', 'version'])


def downgrade() -> None:
    with op.batch_alter_table('assumption_sets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_assumption_sets_dataset_name_version', type_='unique')

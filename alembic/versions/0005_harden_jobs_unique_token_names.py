"""Token names are unique (revoked tokens included), so that the audit log and the jobs' `created_by`
name one token each. Names already given twice are renamed first: every token after the first of a
name becomes `NAME-ID` (its id, which `comptune token list` shows), oldest first.

Revision ID: 0005_harden_jobs_tokens
Revises: 0004_plan_lp_blocks
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_harden_jobs_tokens'  # alembic_version holds 32 characters
down_revision = '0004_plan_lp_blocks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, name FROM tokens ORDER BY id")).all()
    taken = {name for _, name in rows}
    seen: set[str] = set()
    for token_id, name in rows:
        if name not in seen:
            seen.add(name)
            continue
        renamed = f"{name[:180]}-{token_id}"
        while renamed in taken:
            renamed += "-x"
        connection.execute(sa.text("UPDATE tokens SET name = :name WHERE id = :id"), {"name": renamed, "id": token_id})
        taken.add(renamed)
        seen.add(renamed)
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_tokens_name', ['name'])


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tokens_name', type_='unique')

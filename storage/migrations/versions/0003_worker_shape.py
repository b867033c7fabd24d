"""jobs: engine-chosen clip size (nullable), the upload limit, and worker leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENGINE_CHOSEN = (
    ("duration_s", sa.Float()),
    ("width", sa.Integer()),
    ("height", sa.Integer()),
    ("fps", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for name, kind in _ENGINE_CHOSEN:
            batch_op.alter_column(name, existing_type=kind, nullable=True)
        batch_op.add_column(sa.Column("target_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_jobs_lease_until"), ["lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_lease_until"))
        batch_op.drop_column("lease_until")
        batch_op.drop_column("worker")
        batch_op.drop_column("target_bytes")
        for name, kind in _ENGINE_CHOSEN:
            batch_op.alter_column(name, existing_type=kind, nullable=False)

"""channel cursor: where pull-based channels (WeChat Customer Service sync_msg) stopped

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("cursor", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_cursor")),
    )
    op.create_index("uq_channel_cursor_channel_source", "channel_cursor",
                    ["channel", "source"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_channel_cursor_channel_source", table_name="channel_cursor")
    op.drop_table("channel_cursor")

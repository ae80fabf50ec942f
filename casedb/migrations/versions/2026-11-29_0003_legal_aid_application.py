"""legal aid pre-applications and look-up verification failures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_aid_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rules_used", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_aid_application")),
        sa.UniqueConstraint("reference", name=op.f("uq_legal_aid_application_reference")),
    )
    op.create_index(op.f("ix_legal_aid_application_external_id"), "legal_aid_application",
                    ["external_id"])
    op.create_table(
        "verification_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failure")),
    )
    op.create_index("ix_verification_failure_key_at", "verification_failure",
                    ["key", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_verification_failure_key_at", table_name="verification_failure")
    op.drop_table("verification_failure")
    op.drop_index(op.f("ix_legal_aid_application_external_id"),
                  table_name="legal_aid_application")
    op.drop_table("legal_aid_application")

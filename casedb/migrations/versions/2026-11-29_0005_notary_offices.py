"""notary offices and the notary matter catalog

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notary_office",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.String(300), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("appointment_url", sa.String(300), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_notary_office_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_notary_office")),
    )
    op.create_table(
        "notary_office_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("matter", sa.String(32), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("fee", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("in_person", sa.Boolean(), nullable=False),
        sa.Column("for_use_abroad", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["notary_office.organisation_id"],
            name=op.f("fk_notary_office_matter_office_id_notary_office"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notary_office_matter")),
    )
    op.create_index("uq_notary_office_matter_office_matter", "notary_office_matter",
                    ["office_id", "matter"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_notary_office_matter_office_matter", table_name="notary_office_matter")
    op.drop_table("notary_office_matter")
    op.drop_table("notary_office")

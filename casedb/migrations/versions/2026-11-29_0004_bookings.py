"""contact point booking details and consultation bookings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_point",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("park", sa.String(200), nullable=True),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_contact_point_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_contact_point")),
    )
    op.create_table(
        "contact_point_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_point_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_point_id"], ["contact_point.organisation_id"],
            name=op.f("fk_contact_point_topic_contact_point_id_contact_point"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_point_topic")),
    )
    op.create_index("uq_contact_point_topic_point_topic", "contact_point_topic",
                    ["contact_point_id", "topic"], unique=True)
    op.create_table(
        "contact_point_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_point_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_point_id"], ["contact_point.organisation_id"],
            name=op.f("fk_contact_point_hours_contact_point_id_contact_point"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_point_hours")),
    )
    op.create_index(op.f("ix_contact_point_hours_contact_point_id"), "contact_point_hours",
                    ["contact_point_id"])
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("contact_point_code", sa.String(64), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reminder_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("code", name=op.f("uq_booking_code")),
    )
    op.create_index("uq_booking_slot_seat", "booking",
                    ["contact_point_code", "slot_start", "seat"], unique=True)
    op.create_index("ix_booking_reminder_due", "booking",
                    ["status", "reminder_sent_at", "slot_start"])
    op.create_index(op.f("ix_booking_external_id"), "booking", ["external_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_booking_external_id"), table_name="booking")
    op.drop_index("ix_booking_reminder_due", table_name="booking")
    op.drop_index("uq_booking_slot_seat", table_name="booking")
    op.drop_table("booking")
    op.drop_index(op.f("ix_contact_point_hours_contact_point_id"),
                  table_name="contact_point_hours")
    op.drop_table("contact_point_hours")
    op.drop_index("uq_contact_point_topic_point_topic", table_name="contact_point_topic")
    op.drop_table("contact_point_topic")
    op.drop_table("contact_point")

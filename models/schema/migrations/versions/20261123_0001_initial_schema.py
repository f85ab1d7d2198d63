"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_event",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_action"), "audit_event", ["action"], unique=False)
    op.create_table(
        "ingest_batch",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=1000), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "started",
                "committed",
                "duplicate",
                "quarantined",
                "rejected",
                "abandoned",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("validation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingest_batch")),
        sa.UniqueConstraint(
            "source",
            "content_sha256",
            name=op.f("uq_ingest_batch_source_content_sha256"),
        ),
    )
    op.create_table(
        "snapshot",
        sa.Column("snapshot_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("config_version", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "complete",
                "failed",
                name="snapshot_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_snapshot")),
    )
    op.create_index(op.f("ix_snapshot_as_of"), "snapshot", ["as_of"], unique=False)
    op.create_table(
        "account_manager",
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column(
            "seniority",
            sa.Enum(
                "junior",
                "senior",
                "principal",
                name="seniority",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("specialty", sa.String(length=100), nullable=True),
        sa.Column("hired_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_account_manager_batch_id_ingest_batch"),
        ),
        sa.PrimaryKeyConstraint("manager_id", name=op.f("pk_account_manager")),
    )
    op.create_index(
        op.f("ix_account_manager_batch_id"),
        "account_manager",
        ["batch_id"],
        unique=False,
    )
    op.create_table(
        "product_line",
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_product_line_batch_id_ingest_batch"),
        ),
        sa.PrimaryKeyConstraint("product_line_id", name=op.f("pk_product_line")),
    )
    op.create_index(op.f("ix_product_line_batch_id"), "product_line", ["batch_id"], unique=False)
    op.create_table(
        "quarantine_record",
        sa.Column("quarantine_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=1000), nullable=True),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column("natural_key", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("rule_code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_quarantine_record_batch_id_ingest_batch"),
        ),
        sa.PrimaryKeyConstraint("quarantine_id", name=op.f("pk_quarantine_record")),
    )
    op.create_index(
        op.f("ix_quarantine_record_batch_id"),
        "quarantine_record",
        ["batch_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quarantine_record_natural_key"),
        "quarantine_record",
        ["natural_key"],
        unique=False,
    )
    op.create_table(
        "app_user",
        sa.Column("user_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "viewer",
                "account_manager",
                "planner",
                "approver",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("manager_id", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["account_manager.manager_id"],
            name=op.f("fk_app_user_manager_id_account_manager"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "customer",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("ownership_type", sa.String(length=50), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("parent_customer_id", sa.String(length=64), nullable=True),
        sa.Column("manager_id", sa.String(length=64), nullable=True),
        sa.Column("influence", sa.SmallInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "prospect",
                "active",
                "churned",
                name="customer_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "buying_factor",
            sa.Enum(
                "relationship",
                "price",
                "innovation",
                name="buying_factor",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("named_strategic", sa.Boolean(), nullable=False),
        sa.Column("estimated_potential", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("influence BETWEEN 0 AND 100", name=op.f("ck_customer_influence_range")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_customer_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["account_manager.manager_id"],
            name=op.f("fk_customer_manager_id_account_manager"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_customer_parent_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer")),
    )
    op.create_index(op.f("ix_customer_batch_id"), "customer", ["batch_id"], unique=False)
    op.create_index(op.f("ix_customer_manager_id"), "customer", ["manager_id"], unique=False)
    op.create_index(
        op.f("ix_customer_parent_customer_id"),
        "customer",
        ["parent_customer_id"],
        unique=False,
    )
    op.create_table(
        "roadmap_item",
        sa.Column("roadmap_item_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("capability_tags", sa.JSON(), nullable=False),
        sa.Column("planned_release_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "released",
                "cancelled",
                name="roadmap_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_roadmap_item_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["product_line_id"],
            ["product_line.product_line_id"],
            name=op.f("fk_roadmap_item_product_line_id_product_line"),
        ),
        sa.PrimaryKeyConstraint("roadmap_item_id", name=op.f("pk_roadmap_item")),
    )
    op.create_index(op.f("ix_roadmap_item_batch_id"), "roadmap_item", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_roadmap_item_product_line_id"),
        "roadmap_item",
        ["product_line_id"],
        unique=False,
    )
    op.create_table(
        "account_plan",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("account_lead", sa.String(length=200), nullable=True),
        sa.Column("solution_lead", sa.String(length=200), nullable=True),
        sa.Column("delivery_lead", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("end_year >= start_year", name=op.f("ck_account_plan_years_ordered")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_account_plan_version_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_account_plan_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_account_plan")),
    )
    op.create_index(
        op.f("ix_account_plan_customer_id"),
        "account_plan",
        ["customer_id"],
        unique=False,
    )
    op.create_table(
        "customer_measure",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revenue_previous", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("gross_margin_pct", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("collection_rate", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("on_time_share", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("mean_days_late", sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column("growth", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.Column("invoice_count", sa.Integer(), nullable=True),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("product_line_count", sa.SmallInteger(), nullable=True),
        sa.Column("influence", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_customer_measure_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_customer_measure_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_customer_measure")),
    )
    op.create_table(
        "customer_tier",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column(
            "tier",
            sa.Enum(
                "diamond",
                "gold",
                "strategic",
                "potential",
                "general",
                "problem",
                "key_opportunity",
                "general_opportunity",
                name="tier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_customer_tier_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshot.snapshot_id"],
            name=op.f("fk_customer_tier_snapshot_id_snapshot"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "customer_id", name=op.f("pk_customer_tier")),
    )
    op.create_index(op.f("ix_customer_tier_tier"), "customer_tier", ["tier"], unique=False)
    op.create_table(
        "initiative",
        sa.Column("initiative_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("capability_tags", sa.JSON(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum(
                "high",
                "medium",
                "low",
                name="initiative_priority",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "active",
                "done",
                "dropped",
                name="initiative_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_initiative_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_initiative_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("initiative_id", name=op.f("pk_initiative")),
    )
    op.create_index(op.f("ix_initiative_batch_id"), "initiative", ["batch_id"], unique=False)
    op.create_index(op.f("ix_initiative_customer_id"), "initiative", ["customer_id"], unique=False)
    op.create_table(
        "invoice",
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_invoice_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_invoice_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice")),
    )
    op.create_index(op.f("ix_invoice_batch_id"), "invoice", ["batch_id"], unique=False)
    op.create_index(
        "ix_invoice_customer_date",
        "invoice",
        ["customer_id", "invoice_date"],
        unique=False,
    )
    op.create_index(op.f("ix_invoice_invoice_date"), "invoice", ["invoice_date"], unique=False)
    op.create_table(
        "opportunity",
        sa.Column("opportunity_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("owner_manager_id", sa.String(length=64), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("expected_close_on", sa.Date(), nullable=True),
        sa.Column(
            "stage",
            sa.Enum(
                "target_account",
                "customer_analysis",
                "build_trust",
                "discover_needs",
                "present_value",
                "win_commitment",
                "won",
                "collect_payment",
                "lost",
                name="opportunity_stage_name",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "won",
                "lost",
                name="opportunity_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("lost_reason", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_opportunity_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_opportunity_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_manager_id"],
            ["account_manager.manager_id"],
            name=op.f("fk_opportunity_owner_manager_id_account_manager"),
        ),
        sa.ForeignKeyConstraint(
            ["product_line_id"],
            ["product_line.product_line_id"],
            name=op.f("fk_opportunity_product_line_id_product_line"),
        ),
        sa.PrimaryKeyConstraint("opportunity_id", name=op.f("pk_opportunity")),
    )
    op.create_index(op.f("ix_opportunity_batch_id"), "opportunity", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_opportunity_customer_id"), "opportunity", ["customer_id"], unique=False
    )
    op.create_table(
        "wallet_estimate",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("potential_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "potential_amount >= 0",
            name=op.f("ck_wallet_estimate_potential_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_wallet_estimate_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_wallet_estimate_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["product_line_id"],
            ["product_line.product_line_id"],
            name=op.f("fk_wallet_estimate_product_line_id_product_line"),
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "product_line_id", "year", name=op.f("pk_wallet_estimate")
        ),
    )
    op.create_index(
        op.f("ix_wallet_estimate_batch_id"),
        "wallet_estimate",
        ["batch_id"],
        unique=False,
    )
    op.create_table(
        "invoice_line",
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_line_id", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_invoice_line_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.invoice_id"],
            name=op.f("fk_invoice_line_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["product_line_id"],
            ["product_line.product_line_id"],
            name=op.f("fk_invoice_line_product_line_id_product_line"),
        ),
        sa.PrimaryKeyConstraint("invoice_id", "line_no", name=op.f("pk_invoice_line")),
    )
    op.create_index(op.f("ix_invoice_line_batch_id"), "invoice_line", ["batch_id"], unique=False)
    op.create_index(
        "ix_invoice_line_product_line",
        "invoice_line",
        ["product_line_id"],
        unique=False,
    )
    op.create_table(
        "opportunity_stage",
        sa.Column("opportunity_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "target_account",
                "customer_analysis",
                "build_trust",
                "discover_needs",
                "present_value",
                "win_commitment",
                "won",
                "collect_payment",
                "lost",
                name="opportunity_stage_name",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("customer_action", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_opportunity_stage_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunity.opportunity_id"],
            name=op.f("fk_opportunity_stage_opportunity_id_opportunity"),
        ),
        sa.PrimaryKeyConstraint("opportunity_id", "seq", name=op.f("pk_opportunity_stage")),
    )
    op.create_index(
        op.f("ix_opportunity_stage_batch_id"),
        "opportunity_stage",
        ["batch_id"],
        unique=False,
    )
    op.create_table(
        "payment",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payment_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.batch_id"],
            name=op.f("fk_payment_batch_id_ingest_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.customer_id"],
            name=op.f("fk_payment_customer_id_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.invoice_id"],
            name=op.f("fk_payment_invoice_id_invoice"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment")),
    )
    op.create_index(op.f("ix_payment_batch_id"), "payment", ["batch_id"], unique=False)
    op.create_index(
        "ix_payment_customer_paid_on",
        "payment",
        ["customer_id", "paid_on"],
        unique=False,
    )
    op.create_index(op.f("ix_payment_invoice_id"), "payment", ["invoice_id"], unique=False)
    op.create_table(
        "plan_revision",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["account_plan.plan_id"],
            name=op.f("fk_plan_revision_plan_id_account_plan"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "version", name=op.f("pk_plan_revision")),
    )


def downgrade() -> None:

    op.drop_table("plan_revision")
    op.drop_index(op.f("ix_payment_invoice_id"), table_name="payment")
    op.drop_index("ix_payment_customer_paid_on", table_name="payment")
    op.drop_index(op.f("ix_payment_batch_id"), table_name="payment")
    op.drop_table("payment")
    op.drop_index(op.f("ix_opportunity_stage_batch_id"), table_name="opportunity_stage")
    op.drop_table("opportunity_stage")
    op.drop_index("ix_invoice_line_product_line", table_name="invoice_line")
    op.drop_index(op.f("ix_invoice_line_batch_id"), table_name="invoice_line")
    op.drop_table("invoice_line")
    op.drop_index(op.f("ix_wallet_estimate_batch_id"), table_name="wallet_estimate")
    op.drop_table("wallet_estimate")
    op.drop_index(op.f("ix_opportunity_customer_id"), table_name="opportunity")
    op.drop_index(op.f("ix_opportunity_batch_id"), table_name="opportunity")
    op.drop_table("opportunity")
    op.drop_index(op.f("ix_invoice_invoice_date"), table_name="invoice")
    op.drop_index("ix_invoice_customer_date", table_name="invoice")
    op.drop_index(op.f("ix_invoice_batch_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_index(op.f("ix_initiative_customer_id"), table_name="initiative")
    op.drop_index(op.f("ix_initiative_batch_id"), table_name="initiative")
    op.drop_table("initiative")
    op.drop_index(op.f("ix_customer_tier_tier"), table_name="customer_tier")
    op.drop_table("customer_tier")
    op.drop_table("customer_measure")
    op.drop_index(op.f("ix_account_plan_customer_id"), table_name="account_plan")
    op.drop_table("account_plan")
    op.drop_index(op.f("ix_roadmap_item_product_line_id"), table_name="roadmap_item")
    op.drop_index(op.f("ix_roadmap_item_batch_id"), table_name="roadmap_item")
    op.drop_table("roadmap_item")
    op.drop_index(op.f("ix_customer_parent_customer_id"), table_name="customer")
    op.drop_index(op.f("ix_customer_manager_id"), table_name="customer")
    op.drop_index(op.f("ix_customer_batch_id"), table_name="customer")
    op.drop_table("customer")
    op.drop_table("app_user")
    op.drop_index(op.f("ix_quarantine_record_natural_key"), table_name="quarantine_record")
    op.drop_index(op.f("ix_quarantine_record_batch_id"), table_name="quarantine_record")
    op.drop_table("quarantine_record")
    op.drop_index(op.f("ix_product_line_batch_id"), table_name="product_line")
    op.drop_table("product_line")
    op.drop_index(op.f("ix_account_manager_batch_id"), table_name="account_manager")
    op.drop_table("account_manager")
    op.drop_index(op.f("ix_snapshot_as_of"), table_name="snapshot")
    op.drop_table("snapshot")
    op.drop_table("ingest_batch")
    op.drop_index(op.f("ix_audit_event_action"), table_name="audit_event")
    op.drop_table("audit_event")

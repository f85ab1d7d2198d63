"""Builders for rows of every table, for round-trip and migration tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from models.db import transaction
from models.schema import (
    AccountManager,
    AccountPlan,
    AppUser,
    AuditEvent,
    BatchStatus,
    BuyingFactor,
    Customer,
    CustomerMeasure,
    CustomerStatus,
    CustomerTier,
    IngestBatch,
    IngestChange,
    Initiative,
    InitiativeStatus,
    Invoice,
    InvoiceLine,
    Opportunity,
    OpportunityStage,
    OpportunityStatus,
    Payment,
    PlanRevision,
    PlanStatus,
    Priority,
    ProductLine,
    QuarantineRecord,
    RoadmapItem,
    RoadmapStatus,
    Role,
    Seniority,
    Snapshot,
    SnapshotStatus,
    Stage,
    Tier,
    WalletEstimate,
)

AT = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def one_of_everything() -> list:
    """One row per table, money as Decimal with cents, unknowns as None."""
    return [
        IngestBatch(
            batch_id=1,
            source="files",
            entity="invoice_lines",
            file_name="invoice_lines.csv",
            content_sha256="a" * 64,
            status=BatchStatus.COMMITTED,
            rows_read=2,
            rows_loaded=2,
            validation={"success": True},
        ),
        AccountManager(
            manager_id="AM-1",
            name="Ana Ruiz",
            seniority=Seniority.SENIOR,
            hired_on=date(2019, 3, 1),
            batch_id=1,
        ),
        ProductLine(product_line_id="PL-1", name="Sensors", category="hardware", batch_id=1),
        Customer(
            customer_id="C-1",
            name="Acme GmbH",
            industry="machinery",
            region="DACH",
            country="DE",
            manager_id="AM-1",
            influence=85,
            status=CustomerStatus.ACTIVE,
            buying_factor=BuyingFactor.RELATIONSHIP,
            named_strategic=True,
            batch_id=1,
        ),
        Customer(
            customer_id="C-2",
            name="Acme Polska",
            parent_customer_id="C-1",
            status=CustomerStatus.PROSPECT,
            estimated_potential=Decimal("250000.00"),
        ),
        Invoice(
            invoice_id="INV-1",
            customer_id="C-1",
            invoice_date=date(2026, 1, 10),
            due_date=date(2026, 2, 9),
            currency="EUR",
            batch_id=1,
        ),
        InvoiceLine(
            invoice_id="INV-1",
            line_no=1,
            product_line_id="PL-1",
            quantity=Decimal("3"),
            amount=Decimal("12345678.91"),
            cost=Decimal("9876543.21"),
            batch_id=1,
        ),
        InvoiceLine(
            invoice_id="INV-1",
            line_no=2,
            product_line_id="PL-1",
            quantity=Decimal("-1.5"),
            amount=Decimal("-0.01"),
            cost=None,
            batch_id=1,
        ),
        Payment(
            payment_id="P-1",
            invoice_id="INV-1",
            customer_id="C-1",
            paid_on=date(2026, 2, 20),
            amount=Decimal("1000.10"),
            currency="EUR",
        ),
        WalletEstimate(
            customer_id="C-1",
            product_line_id="PL-1",
            year=2026,
            potential_amount=Decimal("50000000.00"),
            currency="EUR",
            source="planner",
        ),
        Opportunity(
            opportunity_id="O-1",
            customer_id="C-2",
            product_line_id="PL-1",
            name="Line retrofit",
            amount=Decimal("75000.00"),
            currency="EUR",
            owner_manager_id="AM-1",
            created_on=date(2025, 11, 1),
            stage=Stage.PRESENT_VALUE,
            status=OpportunityStatus.OPEN,
        ),
        OpportunityStage(
            opportunity_id="O-1", seq=1, stage=Stage.TARGET_ACCOUNT, entered_on=date(2025, 11, 1)
        ),
        OpportunityStage(
            opportunity_id="O-1",
            seq=2,
            stage=Stage.PRESENT_VALUE,
            entered_on=date(2026, 1, 5),
            customer_action="agreed to a demo",
        ),
        RoadmapItem(
            roadmap_item_id="R-1",
            product_line_id="PL-1",
            title="Edge analytics",
            capability_tags=["edge", "analytics"],
            planned_release_on=date(2027, 3, 1),
            status=RoadmapStatus.PLANNED,
        ),
        Initiative(
            initiative_id="I-1",
            customer_id="C-1",
            title="Smart factory",
            capability_tags=["edge"],
            needed_by=date(2027, 6, 30),
            priority=Priority.HIGH,
            status=InitiativeStatus.ACTIVE,
        ),
        AccountPlan(
            plan_id="PLAN-1",
            customer_id="C-1",
            title="Acme 2026-2028",
            start_year=2026,
            end_year=2028,
            status=PlanStatus.DRAFT,
            version=1,
            content={
                "targets": [{"year": 2026, "product_line_id": "PL-1", "amount": "1000000.00"}]
            },
            updated_by="planner@example.com",
            updated_at=AT,
        ),
        PlanRevision(
            plan_id="PLAN-1",
            version=1,
            from_version=None,
            actor="planner@example.com",
            status=PlanStatus.DRAFT,
            changed_fields=["targets"],
            content={},
        ),
        IngestChange(
            batch_id=1,
            entity="invoice_lines",
            natural_key="INV-1/1",
            previous_customer_id="C-1",
            changes={"amount": ["10.00", "12.00"]},
        ),
        QuarantineRecord(
            batch_id=1,
            entity="invoice_lines",
            file_name="invoice_lines.csv",
            line_no=7,
            raw_sha256="b" * 64,
            natural_key="INV-9/1",
            raw={"amount": "abc"},
            rule_code="AMOUNT_NOT_NUMERIC",
            message="amount 'abc' is not a number",
        ),
        Snapshot(
            snapshot_id=1,
            as_of=date(2026, 1, 31),
            config_version="c" * 12,
            status=SnapshotStatus.COMPLETE,
            batch_ids=[1],
        ),
        CustomerMeasure(
            snapshot_id=1,
            customer_id="C-1",
            revenue=Decimal("12345678.90"),
            gross_margin_pct=Decimal("0.200000"),
            collection_rate=None,
            growth=Decimal("-0.125000"),
            invoice_count=1,
            influence=85,
        ),
        CustomerTier(
            snapshot_id=1,
            customer_id="C-1",
            tier=Tier.DIAMOND,
            score=Decimal("0.912345"),
            rule="diamond",
            reasons=["revenue in the top 5%"],
        ),
        AppUser(username="viewer@example.com", role=Role.VIEWER, password_hash="x"),
        AuditEvent(
            actor="cli:test",
            action="user.add",
            target_type="app_user",
            target_id="viewer@example.com",
        ),
    ]


def insert_one_of_everything(engine: Engine) -> None:
    rows = one_of_everything()
    with transaction(engine) as session:
        # Flush in order: the batch and reference rows before the facts that point at them.
        for row in rows:
            session.add(row)
            session.flush()

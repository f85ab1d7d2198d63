"""The platform's schema: one aggregate a module, all on one metadata."""

from .base import Base
from .customers import (
    AccountManager,
    BuyingFactor,
    Customer,
    CustomerStatus,
    ProductLine,
    Seniority,
)
from .dashboard import (
    DASHBOARD_TABLES,
    DashboardAgeing,
    DashboardClv,
    DashboardCustomer,
    DashboardDsoMonth,
    DashboardHeadline,
    DashboardManager,
    DashboardMigration,
    DashboardPareto,
    DashboardSegmentEffort,
    DashboardTier,
)
from .ingest import BatchStatus, IngestBatch, IngestChange, QuarantineRecord
from .opportunities import Opportunity, OpportunityStage, OpportunityStatus, Stage
from .plans import AccountPlan, PlanRevision, PlanStatus
from .roadmap import Initiative, InitiativeStatus, Priority, RoadmapItem, RoadmapStatus
from .sales import Invoice, InvoiceLine, Payment
from .snapshots import CustomerMeasure, CustomerTier, Snapshot, SnapshotStatus, Tier
from .users import AppUser, AuditEvent, Role
from .value import (
    CustomerReceivable,
    CustomerSegment,
    InvoiceMonthRollup,
    InvoiceRollup,
    InvoiceWindow,
    ManagerMeasure,
    OpenInvoiceRollup,
    RollupBatch,
    RollupWindow,
    SalesRollup,
    SalesWindow,
    TierMigration,
)
from .wallet import WalletEstimate

metadata = Base.metadata

__all__ = [
    "AccountManager",
    "AccountPlan",
    "AppUser",
    "AuditEvent",
    "Base",
    "BatchStatus",
    "BuyingFactor",
    "Customer",
    "CustomerMeasure",
    "CustomerStatus",
    "CustomerTier",
    "IngestBatch",
    "IngestChange",
    "Initiative",
    "InitiativeStatus",
    "Invoice",
    "InvoiceLine",
    "OpenInvoiceRollup",
    "Opportunity",
    "OpportunityStage",
    "OpportunityStatus",
    "Payment",
    "PlanRevision",
    "PlanStatus",
    "Priority",
    "ProductLine",
    "QuarantineRecord",
    "RoadmapItem",
    "RoadmapStatus",
    "Role",
    "Seniority",
    "Snapshot",
    "SnapshotStatus",
    "Stage",
    "Tier",
    "WalletEstimate",
    "CustomerReceivable",
    "CustomerSegment",
    "InvoiceMonthRollup",
    "InvoiceRollup",
    "InvoiceWindow",
    "ManagerMeasure",
    "RollupBatch",
    "RollupWindow",
    "SalesRollup",
    "SalesWindow",
    "TierMigration",
    "DASHBOARD_TABLES",
    "DashboardAgeing",
    "DashboardClv",
    "DashboardCustomer",
    "DashboardDsoMonth",
    "DashboardHeadline",
    "DashboardManager",
    "DashboardMigration",
    "DashboardPareto",
    "DashboardSegmentEffort",
    "DashboardTier",
    "metadata",
]

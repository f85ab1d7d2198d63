"""The canonical input files: one CSV per entity, their columns and meaning.

This is the contract between the sample generator, the ingest flow, the
Great Expectations suites and the README. Dates are ISO ``YYYY-MM-DD``; money
is a plain decimal with a dot (``1234.50``); an empty cell is unknown (NULL);
capability tags are separated by ``;``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str | int | decimal | date | bool | tags
    required: bool
    description: str


@dataclass(frozen=True)
class EntityFile:
    entity: str
    file_name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: str, required: bool, description: str) -> Column:
    return Column(name, kind, required, description)


ENTITIES: dict[str, EntityFile] = {
    e.entity: e
    for e in (
        EntityFile(
            "account_managers",
            "account_managers.csv",
            ("manager_id",),
            (
                _c("manager_id", "str", True, "source id of the account manager"),
                _c("name", "str", True, "full name"),
                _c("email", "str", False, "work e-mail"),
                _c("region", "str", False, "sales region covered"),
                _c("seniority", "str", False, "junior | senior | principal"),
                _c("specialty", "str", False, "industry or product specialty"),
                _c("hired_on", "date", False, "start date"),
                _c("left_on", "date", False, "leaving date, empty while employed"),
            ),
        ),
        EntityFile(
            "product_lines",
            "product_lines.csv",
            ("product_line_id",),
            (
                _c("product_line_id", "str", True, "source id of the product line"),
                _c("name", "str", True, "product line name"),
                _c("category", "str", False, "product family"),
            ),
        ),
        EntityFile(
            "customers",
            "customers.csv",
            ("customer_id",),
            (
                _c("customer_id", "str", True, "source id; identifies the customer everywhere"),
                _c("name", "str", True, "legal or trading name"),
                _c("industry", "str", False, "industry"),
                _c("ownership_type", "str", False, "private | public | state | foreign"),
                _c("region", "str", False, "sales region"),
                _c("country", "str", False, "country"),
                _c("parent_customer_id", "str", False, "customer_id of the group parent"),
                _c("manager_id", "str", False, "owning account manager"),
                _c("influence", "int", False, "0-100 weight of the customer in its industry"),
                _c("status", "str", True, "prospect | active | churned"),
                _c("buying_factor", "str", False, "relationship | price | innovation"),
                _c("named_strategic", "bool", False, "true when management names it strategic"),
                _c("estimated_potential", "decimal", False, "prospects: estimated deal potential"),
            ),
        ),
        EntityFile(
            "invoice_lines",
            "invoice_lines.csv",
            ("invoice_id", "line_no"),
            (
                _c("invoice_id", "str", True, "invoice number"),
                _c("line_no", "int", True, "line number within the invoice, from 1"),
                _c("customer_id", "str", True, "invoiced customer (same on every line)"),
                _c("invoice_date", "date", True, "invoice date"),
                _c("due_date", "date", False, "payment due date; empty when unknown"),
                _c("product_line_id", "str", True, "product line sold"),
                _c("product_code", "str", False, "article / SKU"),
                _c("quantity", "decimal", True, "quantity; negative on credit notes"),
                _c("amount", "decimal", True, "net line amount; negative on credit notes"),
                _c("cost", "decimal", False, "cost of goods; empty when unknown"),
                _c("currency", "str", True, "ISO 4217 code"),
            ),
        ),
        EntityFile(
            "payments",
            "payments.csv",
            ("payment_id",),
            (
                _c("payment_id", "str", True, "payment reference"),
                _c("invoice_id", "str", False, "invoice paid; empty for a payment on account"),
                _c("customer_id", "str", True, "paying customer"),
                _c("paid_on", "date", True, "value date"),
                _c("amount", "decimal", True, "amount received, >= 0"),
                _c("currency", "str", True, "ISO 4217 code"),
            ),
        ),
        EntityFile(
            "wallet_estimates",
            "wallet_estimates.csv",
            ("customer_id", "product_line_id", "year"),
            (
                _c("customer_id", "str", True, "customer"),
                _c("product_line_id", "str", True, "product line"),
                _c("year", "int", True, "calendar year"),
                _c("potential_amount", "decimal", True, "customer's total spend, all suppliers"),
                _c("currency", "str", True, "ISO 4217 code"),
                _c("source", "str", False, "planner | market_study | customer"),
            ),
        ),
        EntityFile(
            "opportunities",
            "opportunities.csv",
            ("opportunity_id",),
            (
                _c("opportunity_id", "str", True, "opportunity id"),
                _c("customer_id", "str", True, "customer or prospect"),
                _c("product_line_id", "str", False, "product line"),
                _c("name", "str", True, "short description"),
                _c("amount", "decimal", True, "expected deal value"),
                _c("currency", "str", True, "ISO 4217 code"),
                _c("owner_manager_id", "str", False, "account manager who owns it"),
                _c("created_on", "date", True, "date it entered the funnel"),
                _c("expected_close_on", "date", False, "expected close date"),
                _c("stage", "str", True, "current stage (see opportunity_stages)"),
                _c("status", "str", True, "open | won | lost"),
                _c("closed_on", "date", False, "date won or lost"),
                _c("lost_reason", "str", False, "why it was lost"),
            ),
        ),
        EntityFile(
            "opportunity_stages",
            "opportunity_stages.csv",
            ("opportunity_id", "seq"),
            (
                _c("opportunity_id", "str", True, "opportunity"),
                _c("seq", "int", True, "1, 2, ... in order of change"),
                _c(
                    "stage",
                    "str",
                    True,
                    "target_account | customer_analysis | build_trust | discover_needs | "
                    "present_value | win_commitment | won | collect_payment | lost",
                ),
                _c("entered_on", "date", True, "date the stage was entered"),
                _c("customer_action", "str", False, "the customer action that moved it"),
            ),
        ),
        EntityFile(
            "roadmap_items",
            "roadmap_items.csv",
            ("roadmap_item_id",),
            (
                _c("roadmap_item_id", "str", True, "roadmap item id"),
                _c("product_line_id", "str", True, "product line delivering it"),
                _c("title", "str", True, "capability delivered"),
                _c("capability_tags", "tags", True, "capability tags, ';'-separated"),
                _c("planned_release_on", "date", True, "planned release date"),
                _c("status", "str", True, "planned | in_progress | released | cancelled"),
                _c("description", "str", False, "what it lets customers do (free text)"),
            ),
        ),
        EntityFile(
            "initiatives",
            "initiatives.csv",
            ("initiative_id",),
            (
                _c("initiative_id", "str", True, "initiative id"),
                _c("customer_id", "str", True, "customer planning it"),
                _c("title", "str", True, "what the customer plans to do"),
                _c("capability_tags", "tags", True, "capabilities it needs, ';'-separated"),
                _c("needed_by", "date", True, "when the customer needs them"),
                _c("priority", "str", True, "high | medium | low"),
                _c("status", "str", True, "planned | active | done | dropped"),
                _c("description", "str", False, "what the customer plans, in its words"),
            ),
        ),
    )
}

# Load order: referenced entities first.
LOAD_ORDER = (
    "account_managers",
    "product_lines",
    "customers",
    "invoice_lines",
    "payments",
    "wallet_estimates",
    "opportunities",
    "opportunity_stages",
    "roadmap_items",
    "initiatives",
)


def entity_for_file(file_name: str) -> EntityFile | None:
    """The canonical entity a file name stands for (``invoice_lines.csv`` etc.)."""
    stem = file_name.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    return ENTITIES.get(stem)

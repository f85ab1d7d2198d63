"""What a plan refers to must exist: its customer, product lines and ingested initiatives."""

from __future__ import annotations

from sqlalchemy import Engine, select

from models.schema import Customer, Initiative, ProductLine

from .content import PlanContent, PlanInvalid, format_path


def check_references(engine: Engine, content: PlanContent) -> None:
    """Raise :class:`PlanInvalid` naming the first key whose reference does not exist."""
    errors = reference_errors(engine, content)
    if errors:
        path, message = errors[0]
        raise PlanInvalid(f"{format_path(path)}: {message}")


def reference_errors(engine: Engine, content: PlanContent) -> list[tuple[tuple, str]]:
    """Each key path whose reference does not exist, with the reason, in file order."""
    product_lines = {pl for lines in content.targets.values() for pl in lines}
    with engine.connect() as conn:
        customer = conn.scalar(
            select(Customer.customer_id).where(Customer.customer_id == content.customer_id)
        )
        known_lines = set(
            conn.scalars(
                select(ProductLine.product_line_id).where(
                    ProductLine.product_line_id.in_(sorted(product_lines))
                )
            )
        )
        owners = dict(
            conn.execute(
                select(Initiative.initiative_id, Initiative.customer_id).where(
                    Initiative.initiative_id.in_(content.initiatives)
                )
            )
            .tuples()
            .all()
        )
    errors: list[tuple[tuple, str]] = []
    if customer is None:
        errors.append((("customer_id",), f"unknown customer {content.customer_id!r}"))
    for year, lines in content.targets.items():
        for pl in lines:
            if pl not in known_lines:
                errors.append((("targets", year, pl), f"unknown product line {pl!r}"))
    for i, initiative in enumerate(content.initiatives):
        owner = owners.get(initiative)
        if owner is None:
            errors.append((("initiatives", i), f"unknown initiative {initiative!r}"))
        elif owner != content.customer_id:
            errors.append(
                (
                    ("initiatives", i),
                    f"initiative {initiative!r} belongs to customer {owner}, "
                    f"not {content.customer_id}",
                )
            )
    return errors

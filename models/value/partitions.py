"""The customers cut into ranges, so the per-customer base aggregates can be read range
by range: on as many connections, or machines, as there are ranges (scale-out).

Performance plumbing, no rule: a customer's base aggregates depend on that customer's
invoices, lines and payments only, so reading them for a range of customers gives
exactly that range's rows of the whole read. The ranges are contiguous in the
database's own order of customer ids (its collation), so the parts, one after the
other, hold the customers in the order the whole read does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, and_, select, true
from sqlalchemy.sql.elements import ColumnElement

from models.schema import Customer


@dataclass(frozen=True)
class CustomerRange:
    """The customers from ``start`` (included) up to ``stop`` (excluded), in the database's
    order of customer ids; None: from the first, or to the last."""

    start: str | None = None
    stop: str | None = None

    @property
    def every_customer(self) -> bool:
        return self.start is None and self.stop is None

    def keeps(self, customer_id: ColumnElement) -> ColumnElement[bool]:
        """The condition a customer id column meets for the customers of this range."""
        conditions = []
        if self.start is not None:
            conditions.append(customer_id >= self.start)
        if self.stop is not None:
            conditions.append(customer_id < self.stop)
        return and_(*conditions) if conditions else true()

    def only(self, query: Select) -> Select:
        """``query`` (one row per customer, or per customer and more, with a
        ``customer_id`` column) cut to this range's customers; as it is for every
        customer. PostgreSQL moves the condition into the query's own GROUP BY, so only
        the range's rows are read (where an index leads with the customer)."""
        if self.every_customer:
            return query
        rows = query.subquery("part")
        return select(*rows.c).where(self.keeps(rows.c.customer_id))


EVERY_CUSTOMER = CustomerRange()


def customer_ranges(conn: Connection, parts: int) -> list[CustomerRange]:
    """At most ``parts`` ranges holding about as many customers each, first to last;
    together they hold every customer (one range, :data:`EVERY_CUSTOMER`, when there are
    fewer customers than parts would split)."""
    if parts < 1:
        raise ValueError(f"customer ranges: {parts} parts")
    ids = conn.scalars(select(Customer.customer_id).order_by(Customer.customer_id)).all()
    # Each bound is a customer's own id: the database compares ids as it ordered them.
    bounds = sorted({i * len(ids) // parts for i in range(1, parts)} - {0})
    cuts = [None, *(ids[b] for b in bounds), None]
    return [CustomerRange(start, stop) for start, stop in zip(cuts, cuts[1:], strict=False)]

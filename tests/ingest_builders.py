"""Builders for ingest tests: the fixture batch and every malformed-file kind, as code."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

AS_OF = date(2026, 10, 1)
BASE_ENTITIES = ("account_managers", "product_lines", "customers")


def fixture_batch(out: Path, customers: int = 20, years: int = 1, seed: int = 1) -> Path:
    """The canonical sample files (~1,300 invoice lines at the defaults)."""
    from models.sampledata import generate_sample

    generate_sample(out, customers=customers, years=years, seed=seed, end_date=date(2026, 9, 30))
    return out


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_rows(path: Path, header: list[str], rows: list[list[str]], delimiter=",") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@dataclass
class Malformed:
    """A malformed file and what the ingest must say about it."""

    path: Path
    code: str  # the batch error code, or the row rule code for row-level kinds
    line: int | None
    column: str | None = None
    row_level: bool = False
    loads: bool = False  # the positive control
    config: dict = field(default_factory=dict)
    needs_invoices: bool = False


def _invoice_sample(base: Path, n: int = 20) -> tuple[list[str], list[list[str]]]:
    header, rows = read_rows(base / "invoice_lines.csv")
    # Single-line invoices only: changing one row never makes its invoice inconsistent.
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    singles = [r for r in rows if counts[r[0]] == 1]
    return header, [list(r) for r in singles[:n]]


def _set(header, row, column, value):
    row[header.index(column)] = value


def build_malformed(kind: str, base: Path, out: Path) -> Malformed:
    """Write the file of one malformed kind into ``out`` (named invoice_lines.csv etc.)."""
    out.mkdir(parents=True, exist_ok=True)
    inv = out / "invoice_lines.csv"
    header, rows = _invoice_sample(base)
    if kind == "empty_file":
        inv.write_bytes(b"")
        return Malformed(inv, "FILE_EMPTY", 1)
    if kind == "header_only":
        write_rows(inv, header, [])
        return Malformed(inv, "FILE_HEADER_ONLY", 2)
    if kind == "missing_column":
        i = header.index("amount")
        write_rows(inv, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
        return Malformed(inv, "COLUMN_MISSING", 1, "amount")
    if kind == "duplicate_column":
        write_rows(inv, [*header, "currency"], [[*r, r[-1]] for r in rows])
        return Malformed(inv, "COLUMN_DUPLICATE", 1, "currency")
    if kind == "unknown_column":
        write_rows(inv, [*header, "notes"], [[*r, "x"] for r in rows])
        return Malformed(inv, "COLUMN_UNKNOWN", 1, "notes", config={"unknown_columns": "reject"})
    if kind == "long_unknown_column":  # a header name longer than the quarantine's column
        long_name = "notes_" + "x" * 150
        write_rows(inv, [*header, long_name], [[*r, "x"] for r in rows])
        return Malformed(
            inv, "COLUMN_UNKNOWN", 1, long_name[:100], config={"unknown_columns": "reject"}
        )
    if kind == "wrong_delimiter":
        write_rows(inv, header, rows, delimiter=";")
        return Malformed(inv, "WRONG_DELIMITER", 1)
    if kind == "invalid_encoding":
        write_rows(inv, header, rows)
        lines = inv.read_bytes().split(b"\n")
        lines[3] = lines[3].replace(b"SKU", b"SK\xa3", 1)  # cp1252 pound sign, not UTF-8
        inv.write_bytes(b"\n".join(lines))
        return Malformed(inv, "ENCODING_INVALID", 4)
    if kind == "utf8_bom":
        write_rows(inv, header, rows)
        inv.write_bytes(b"\xef\xbb\xbf" + inv.read_bytes())
        return Malformed(inv, "LOADED", None, loads=True)
    if kind == "ragged_row":
        rows[4] = [*rows[4], "surplus"]
        write_rows(inv, header, rows)
        return Malformed(inv, "ROW_RAGGED", 6)
    if kind == "unterminated_quote":
        write_rows(inv, header, rows)
        text = inv.read_text(encoding="utf-8").rstrip("\n")
        inv.write_text(text + '\nINV-9999999,1,"C-000001,2026-01-05', encoding="utf-8")
        return Malformed(inv, "ROW_TRUNCATED", len(rows) + 2)
    row_kinds = {
        "unparseable_date": ("invoice_date", "2025-13-45", "DATE_UNPARSEABLE"),
        "ambiguous_date": ("invoice_date", "03/04/2026", "DATE_AMBIGUOUS"),
        "non_numeric_amount": ("amount", "abc", "NUMBER_INVALID"),
        "currency_symbol": ("amount", "€1,234.50", "NUMBER_FORMAT_NOT_ALLOWED"),
        "unknown_customer": ("customer_id", "C-999999", "FK_UNRESOLVED"),
        "future_date": ("invoice_date", (AS_OF + timedelta(days=30)).isoformat(), "DATE_IN_FUTURE"),
    }
    if kind in row_kinds:
        column, value, code = row_kinds[kind]
        _set(header, rows[2], column, value)
        if column == "invoice_date":
            _set(header, rows[2], "due_date", "")
        write_rows(inv, header, rows)
        return Malformed(inv, code, 4, column, row_level=True)
    sign_kinds = {  # a sale whose amount turned negative; a line of quantity 0
        "opposite_signs": ("amount", lambda v: f"-{v}", "QUANTITY_AMOUNT_SIGN"),
        "zero_quantity": ("quantity", lambda v: "0", "ZERO_QUANTITY_AMOUNT"),
    }
    if kind in sign_kinds:
        column, change, code = sign_kinds[kind]
        assert not rows[2][header.index("amount")].startswith("-"), "a sale, not a credit"
        _set(header, rows[2], column, change(rows[2][header.index(column)]))
        write_rows(inv, header, rows)
        return Malformed(inv, code, 4, column, row_level=True)
    if kind == "invisible_id":  # a zero-width space: prints as the same id
        _set(header, rows[2], "customer_id", rows[2][header.index("customer_id")] + "\u200b")
        write_rows(inv, header, rows)
        return Malformed(inv, "ID_INVISIBLE_CHARACTER", 4, "customer_id", row_level=True)
    if kind == "look_alike_id":  # a customer again, its Latin C now a Cyrillic one
        customers = out / "customers.csv"
        c_header, c_rows = read_rows(base / "customers.csv")
        c_rows = c_rows[:20]
        latin = c_rows[2][c_header.index("customer_id")]
        assert latin.startswith("C"), latin
        _set(c_header, c_rows[2], "customer_id", "\u0421" + latin[1:])
        write_rows(customers, c_header, c_rows)
        return Malformed(customers, "ID_CONFUSABLE", 4, "customer_id", row_level=True)
    if kind == "too_long_id":  # 1,000,011 characters where invoice.invoice_id holds 64
        _set(header, rows[2], "invoice_id", "INV-" + "9" * 1_000_007)
        write_rows(inv, header, rows)
        return Malformed(inv, "VALUE_TOO_LONG", 4, "invoice_id", row_level=True)
    if kind == "too_long_reference":  # one character more than payment.invoice_id holds
        pay = out / "payments.csv"
        p_header, p_rows = read_rows(base / "payments.csv")
        p_rows = [r for r in p_rows if r[1]][:20]
        _set(p_header, p_rows[2], "invoice_id", "I" * 65)
        write_rows(pay, p_header, p_rows)
        return Malformed(
            pay, "VALUE_TOO_LONG", 4, "invoice_id", row_level=True, needs_invoices=True
        )
    if kind == "duplicate_key":
        rows[5] = list(rows[4])
        write_rows(inv, header, rows)
        return Malformed(inv, "KEY_DUPLICATE", 7, None, row_level=False)
    if kind in {"negative_amount", "overpaid"}:
        pay = out / "payments.csv"
        p_header, p_rows = read_rows(base / "payments.csv")
        p_rows = [r for r in p_rows if r[1]][:20]
        if kind == "negative_amount":
            _set(p_header, p_rows[2], "amount", "-10.00")
            code = "AMOUNT_NEGATIVE"
        else:
            _set(p_header, p_rows[2], "amount", "99999.00")
            code = "PAYMENT_EXCEEDS_DUE"
        write_rows(pay, p_header, p_rows)
        return Malformed(pay, code, 4, "amount", row_level=True, needs_invoices=True)
    if kind == "binary_xlsx":
        inv.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 8)
        return Malformed(inv, "FILE_BINARY", 1)
    raise ValueError(kind)


MALFORMED_KINDS = (
    "empty_file",
    "header_only",
    "missing_column",
    "duplicate_column",
    "unknown_column",
    "wrong_delimiter",
    "invalid_encoding",
    "utf8_bom",
    "ragged_row",
    "unterminated_quote",
    "unparseable_date",
    "ambiguous_date",
    "non_numeric_amount",
    "currency_symbol",
    "negative_amount",
    "duplicate_key",
    "unknown_customer",
    "overpaid",
    "future_date",
    "binary_xlsx",
    "opposite_signs",
    "zero_quantity",
    "invisible_id",
    "look_alike_id",
    "too_long_id",
    "too_long_reference",
    "long_unknown_column",
)


MULTILINE_BAD_KINDS = ("non_numeric_amount", "ragged_row", "unterminated_quote")


def build_multiline(kind: str, base: Path, out: Path) -> Malformed:
    """invoice_lines.csv whose quoted descriptions hold line breaks (LF and CRLF) in rows
    before a bad row of ``kind`` (one of MULTILINE_BAD_KINDS): the line named must be the
    physical line the bad row starts on, counted here from the bytes written."""
    out.mkdir(parents=True, exist_ok=True)
    inv = out / "invoice_lines.csv"
    header, rows = _invoice_sample(base)
    header = [*header, "description"]
    rows = [[*r, ""] for r in rows]
    rows[1][-1] = "two\nlines"
    rows[3][-1] = "three\r\nlines,\n with a comma"
    rows[4][-1] = "\n\n"
    rows[12][-1] = "after\nthe bad row"
    bad = 8
    column: str | None = None
    if kind == "non_numeric_amount":
        _set(header, rows[bad], "amount", "abc")
        code, column = "NUMBER_INVALID", "amount"
    elif kind == "ragged_row":
        rows[bad] = [*rows[bad], "surplus"]
        code = "ROW_RAGGED"
    elif kind == "unterminated_quote":
        code = "ROW_TRUNCATED"
    else:
        raise ValueError(kind)
    if kind == "unterminated_quote":  # the last row opens a quote it never closes
        write_rows(inv, header, rows[:bad])
        cut = f'{rows[bad][0]},1,"{rows[bad][2]},2026-01-05\nstill, inside\n'
        inv.write_bytes(inv.read_bytes() + cut.encode())
    else:
        write_rows(inv, header, rows)
    text = inv.read_bytes()
    start = text.index(b"\n" + rows[bad][0].encode() + b",") + 1
    line = text[:start].count(b"\n") + 1
    assert line > bad + 2  # the breaks before it moved it down: a drift would show
    return Malformed(inv, code, line, column, row_level=column is not None)


def online_retail_csv(path: Path, lines: int, seed: int = 7) -> Path:
    """A synthetic file shaped like UCI "Online Retail": cp1252, m/d/Y H:M dates,
    ~25% lines without CustomerID, C-invoices (cancellations, negative quantities),
    A-invoices (bad-debt adjustments, negative price), zero prices, exact duplicate
    lines, stock codes such as POST and 85123A, and a pound sign in descriptions."""
    rng = random.Random(seed)
    start = date(2010, 12, 1)
    codes = ["85123A", "71053", "84406B", "POST", "22423", "M", "DOT", "84029E"]
    descriptions = [
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "WHITE METAL LANTERN",
        "POSTAGE",
        "REGENCY CAKESTAND 3 TIER",
        "Manual",
        "£5 VOUCHER",
    ]
    countries = ["United Kingdom", "France", "Germany", "EIRE", "Australia"]
    out = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"]
    n = 0
    invoice = 536365
    while n < lines:
        invoice += 1
        day = start + timedelta(days=rng.randrange(370))
        stamp = f"{day.month}/{day.day}/{day.year} {rng.randrange(7, 20)}:{rng.randrange(60):02d}"
        kind = rng.random()
        number = f"C{invoice}" if kind < 0.02 else f"A{invoice}" if kind < 0.021 else str(invoice)
        customer = "" if rng.random() < 0.25 else str(rng.randrange(12346, 18288))
        country = rng.choice(countries)
        previous = None
        for _ in range(min(rng.randrange(1, 30), lines - n)):
            if previous is not None and rng.random() < 0.03:
                out.append(previous)  # an exact duplicate line: a real repeat purchase
                n += 1
                continue
            qty = rng.randrange(1, 48)
            price = 0.0 if rng.random() < 0.005 else round(rng.uniform(0.1, 20), 2)
            if number.startswith("C"):
                qty = -qty
            if number.startswith("A"):
                qty, price = 1, -round(rng.uniform(100, 12000), 2)
            code = rng.choice(codes)
            desc = rng.choice(descriptions)
            line = f"{number},{code},{desc},{qty},{stamp},{price:g},{customer},{country}"
            out.append(line)
            previous = line
            n += 1
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("cp1252"))
    return path

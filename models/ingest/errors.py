"""Ingest errors and the stable codes a user, a test or the dashboard can rely on."""

from __future__ import annotations

from models.errors import AccountopsError

# code -> what it means; the README's error table is generated from the same words.
CODES: dict[str, str] = {
    "FILE_NOT_FOUND": "the path does not exist or is not a readable file",
    "FILE_EMPTY": "the file has 0 bytes",
    "FILE_HEADER_ONLY": "the file has a header but no data rows",
    "FILE_BINARY": "binary content (e.g. an .xlsx or a zip) where a CSV was expected",
    "FILE_TOO_LARGE": "the file is above ingest.max_file_bytes",
    "FILE_TOO_MANY_ROWS": "the file has more rows than ingest.max_rows",
    "FILE_UNKNOWN_ENTITY": "the file name names no canonical entity and no --mapping was given",
    "ENCODING_INVALID": "bytes that are not valid in the expected encoding",
    "WRONG_DELIMITER": "the header splits into the expected columns on another delimiter",
    "COLUMN_MISSING": "a required column is absent from the header",
    "COLUMN_DUPLICATE": "a column name appears twice in the header",
    "COLUMN_UNKNOWN": "a column the entity does not have (policy ingest.unknown_columns)",
    "ROW_RAGGED": "a row has more or fewer fields than the header",
    "ROW_TRUNCATED": "an unterminated quote or a truncated last line",
    "KEY_DUPLICATE": "the same natural key twice in one batch",
    "ROW_COUNT_OUT_OF_RANGE": "the batch has fewer or more rows than its suite allows",
    "ROWS_ABOVE_THRESHOLD": "more bad rows than ingest.row_quarantine_threshold",
    "MAPPING_INVALID": "the --mapping file is missing, not YAML or names unknown columns",
    "SOURCE_QUERY_FAILED": "the source database or query could not be read",
    # Row-level rules: the row goes to quarantine, the rest of the batch loads.
    "REQUIRED_MISSING": "a required value is empty",
    "DATE_UNPARSEABLE": "a date that is not YYYY-MM-DD (or the mapping's format)",
    "DATE_AMBIGUOUS": "a day/month date such as 03/04/2025 with no format configured",
    "DATE_IMPLAUSIBLE": "a date before ingest.min_date",
    "DATE_IN_FUTURE": "a date after as-of + ingest.future_tolerance_days",
    "DUE_BEFORE_INVOICE": "a due date before the invoice date",
    "NUMBER_INVALID": "a number that cannot be read",
    "NUMBER_FORMAT_NOT_ALLOWED": "a currency symbol or thousands separator in a number",
    "AMOUNT_OUT_OF_RANGE": "an amount or quantity outside the configured range",
    "AMOUNT_NEGATIVE": "a negative amount where the entity forbids it",
    "QUANTITY_AMOUNT_SIGN": "an invoice line's quantity and amount of opposite signs",
    "ZERO_QUANTITY_AMOUNT": "an invoice line with quantity 0 and a non-zero amount",
    "CURRENCY_NOT_ALLOWED": "a currency not in ingest.allowed_currencies",
    "VALUE_NOT_ALLOWED": "a value outside the entity's allowed set (status, stage, ...)",
    "VALUE_TOO_LONG": "a value longer than its column holds (the length its table declares)",
    "ID_INVISIBLE_CHARACTER": "an id holding an invisible or control character (zero-width space)",
    "ID_CONFUSABLE": "an id with letters of another script that reads as an id that exists",
    "FK_UNRESOLVED": "a reference (customer, invoice, product line, ...) that does not exist",
    "PAYMENT_EXCEEDS_DUE": "payments above the invoice's amount due",
    "INVOICE_HEADER_MISMATCH": "lines of one invoice disagree on customer, dates or currency",
}


class IngestError(AccountopsError):
    """A batch-level problem: the whole batch is rejected, nothing of it is loaded."""

    code = "INGEST_ERROR"

    def __init__(
        self,
        code: str,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        raw: bytes | str | None = None,
    ) -> None:
        self.file, self.line, self.column, self.problem = file, line, column, problem
        self.raw = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
        where = file
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f" column {column}"
        super().__init__(f"{where}: {problem}", code=code)

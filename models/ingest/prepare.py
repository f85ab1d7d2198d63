"""One chunk made ready to load: mapped, typed, checked against the book, validated.

No write happens here, so on PostgreSQL the next chunk is prepared while the
load's connection writes the previous one. The rows that broke a rule are
counted and become quarantine records; the rest (canonical text) go on to the
load, with the customers a mapping creates from them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from models.schema import metadata

from .entities import column_lengths, foreign_keys, natural_key, targets
from .errors import CODES
from .identifiers import id_columns, look_alikes
from .known import KnownKeys
from .mapping import apply_mapping
from .normalise import Violations, header_mismatches, normalise
from .payments import FOUND_INVOICES, PaymentsCheck
from .settings import IngestConfig
from .validation import Validator, merge_summaries
from .verdict import Tally


@dataclass
class Prepared:
    """A chunk's rows to load, the customers a mapping creates for them (or None), and
    which of the rows' keys the database holds already when the check has found it
    (None: the load asks)."""

    good: pd.DataFrame
    customers: pd.DataFrame | None
    existing: pd.Series | None = None


class ChunkPreparer:
    """Prepares the chunks of one batch in order (some checks carry across chunks)."""

    def __init__(
        self,
        batch,
        validator: Validator,
        config: IngestConfig,
        tally: Tally,
        known: KnownKeys,
        payments: PaymentsCheck | None,
    ) -> None:
        self.batch, self.entity = batch, batch.entity
        self.validator, self.config, self.tally = validator, config, tally
        self.known, self.payments = known, payments
        # Carried between chunks: a mapping's line numbers, the last invoice's header.
        self.state: dict[str, Any] = {}
        own_table = targets(self.entity)[0].table.name
        # Keys of this batch resolve references inside it (a parent customer in the same file).
        self.own_refs = [
            (table, ref) for table, ref in foreign_keys(self.entity).values() if table == own_table
        ]
        # Id column -> the table and column holding the ids it may resemble: its own
        # table for a key, the referenced one for a reference.
        self.id_tables = {
            column: (target.table.name, column)
            for target in targets(self.entity)
            for column in target.key
            if column in id_columns(self.entity)
        } | {
            column: ref
            for column, ref in foreign_keys(self.entity).items()
            if column in id_columns(self.entity)
        }
        self.details: dict[tuple[int, str], str] = {}
        self.chunks = 0

    def prepare(self, raw: pd.DataFrame) -> Prepared:
        """Map, type and validate one chunk; no write to the load's connection."""
        tally = self.tally
        tally.rows_read += len(raw)
        self.chunks += 1
        mapping = self.batch.mapping
        frame = raw
        customers = None
        if mapping is not None:
            mapped = apply_mapping(mapping, raw, self.state)
            tally.rows_skipped += mapped.skipped
            frame = mapped.frame
            if mapped.customers is not None and len(mapped.customers):
                customers = mapped.customers
                self.known.add("customer", mapped.customers["customer_id"])
        norm = normalise(self.entity, frame, date_format=mapping.date_format if mapping else None)
        bad = norm.violations
        if self.entity == "invoice_lines":
            mismatch, carry = header_mismatches(norm.load, self.state.get("headers"))
            self.state["headers"] = carry
            for idx in mismatch.index[mismatch.to_numpy()]:
                bad.setdefault(int(idx), []).append(("INVOICE_HEADER_MISMATCH", "invoice_id"))
        found: dict[str, set] = {}
        existing = None
        if self.payments is not None:
            checked = self.payments.check(norm.check, norm.load)
            norm.check["overpayment"] = checked.overpayment
            found[FOUND_INVOICES] = checked.invoices
            if self.chunks == 1:
                # Before the first chunk is written the load's connection sees the book
                # as committed, as the check did: which payments exist is known.
                existing = pd.Series(checked.recorded, index=norm.load.index)
        self._look_alikes(norm.load, bad)
        for table, ref in self.own_refs:
            if ref in norm.load:
                self.known.add(table, norm.load[ref].dropna())
        known = self.known.for_chunk(norm.check, found)
        outcome = self.validator(self.entity, norm.check, known)
        tally.summary = merge_summaries(tally.summary, outcome.summary)
        for idx, rules in outcome.rows.items():
            # An unreadable value is empty once typed: report it once, as unreadable.
            typed = {col for _code, col in bad.get(idx, [])}
            rules = [r for r in rules if not (r[0] == "REQUIRED_MISSING" and r[1] in typed)]
            if rules:
                bad.setdefault(idx, []).extend(rules)
        for code, column, rows in outcome.batch:
            tally.batch_failures.append((code, column, rows))
            for idx in rows:
                bad.setdefault(idx, []).append((code, column))
        tally.rows_bad += len(bad)
        if bad:
            self._quarantine(raw, bad)
        good = norm.load.drop(index=list(bad)) if bad else norm.load
        if existing is not None and bad:
            existing = existing.drop(index=list(bad))
        tally.rows_staged += len(good) + len(bad) + (len(raw) - len(frame))
        return Prepared(good, customers, existing)

    def _look_alikes(self, load: pd.DataFrame, bad: Violations) -> None:
        """Flag ids that read as another id which exists, in the database or this chunk
        (``ID_CONFUSABLE``, naming it); ``self.details`` keeps what each one reads as."""
        self.details = {}
        for column, (table_name, ref) in self.id_tables.items():
            if column not in load:
                continue
            values = load[column].dropna().unique()
            alikes = look_alikes(values)
            if not alikes:
                continue
            table = metadata.tables[table_name]
            readings = sorted(set(alikes.values()))
            exists = set(
                self.known.book.conn.execute(
                    select(table.c[ref]).where(table.c[ref].in_(readings))
                ).scalars()
            ) | (set(readings) & set(values))
            suspects = load[column][load[column].isin(list(alikes))]
            # A chunk is indexed by the line each row starts on (reader.py).
            for line, value in zip(suspects.index.tolist(), suspects.tolist(), strict=True):
                reading = alikes[value]
                if reading in exists:
                    bad.setdefault(line, []).append(("ID_CONFUSABLE", column))
                    self.details[(line, "ID_CONFUSABLE")] = f"; it reads as {reading!r}"

    def _quarantine(self, raw: pd.DataFrame, bad: Violations) -> None:
        """Quarantine records of the bad rows: one per rule broken, naming file, line,
        column and value (until ``ingest.max_quarantine_records``)."""
        records = self.tally.quarantine
        name = self.batch.name
        for idx, rules in sorted(bad.items()):
            if len(records) >= self.config.max_quarantine_records:
                return
            values = {str(k): ("" if pd.isna(v) else str(v)) for k, v in raw.loc[idx].items()}
            raw_sha = hashlib.sha256("\x1f".join(values.values()).encode()).hexdigest()
            key = "/".join(values.get(k, "") for k in natural_key(self.entity))
            line = int(idx)  # a chunk is indexed by the line each row starts on (reader.py)
            seen = set()
            for code, column in rules:
                if (code, column) in seen:
                    continue
                seen.add((code, column))
                where = f"{name} line {line}" + (f" column {column}" if column else "")
                value = values.get(column or "")
                detail = self.details.get((line, code), "")  # e.g. what a look-alike reads as
                limit = ""
                if code == "VALUE_TOO_LONG" and column:
                    limit = f"{column} holds at most {column_lengths(self.entity)[column]:,}"
                    if value is not None:  # a mapping's rows hold the source's columns
                        detail += f", {len(value.strip()):,} characters: {limit}"
                shown = (
                    f" (value {_shown(value)}{detail})"
                    if value is not None
                    else f" ({limit} characters)"
                    if limit
                    else ""
                )
                records.append(
                    {
                        "entity": self.entity,
                        "file_name": name,
                        "line_no": line,
                        "column_name": column,
                        "raw_sha256": raw_sha,
                        "natural_key": key[:200] or None,
                        "raw": values,
                        "rule_code": code,
                        "message": f"{where}: {CODES.get(code, code)}{shown}",
                    }
                )


def _shown(value: str, limit: int = 60) -> str:
    """A cell as a message quotes it: whole when short, else its start (a message is
    one line; the whole row is in the record's ``raw``)."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}..."

"""The set-based load of one batch, chunk by chunk, inside the caller's transaction.

Each chunk is split once by its first target's key (for invoice lines: the
invoice). Rows whose key is new go straight into the target tables in bulk
(COPY on PostgreSQL, one ``executemany`` on SQLite): all a fresh load does.
Rows whose key exists go through a TEMP staging table and the careful path:
duplicate check, change log, ``UPDATE`` of the rows whose values differ, insert
of their new keys (changes.py). Before COMMIT,
:meth:`StagedLoad.check_references` proves that every reference the database
does not enforce resolves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    literal,
    select,
)

from .bulk import analyse, bulk_insert, empty_table, temp_table
from .changes import diff_target, on_keys, staged_source, write_changes, write_target
from .entities import Target
from .line_totals import new_invoices
from .line_totals import recount as recount_totals

PG_WORK_MEM = "64MB"
_POS = "__pos"


class StagedLoad:
    """The TEMP tables of one batch and the per-chunk writes into its targets.

    A chunk's rows are new when the first target's key is not in the database yet
    (no invoice, no lines). Natural keys of the careful rows are kept to find keys
    repeated across chunks; a new row repeated in a later chunk is found there
    instead, as it then exists with this batch's id.
    """

    def __init__(self, conn: Connection, targets: list[Target], key: tuple[str, ...]) -> None:
        self.conn, self.targets, self.key = conn, targets, key
        cols: dict[str, Column] = {}
        for target in targets:
            for name in (*target.key, *target.columns):
                cols.setdefault(name, Column(name, target.table.c[name].type))
        name = f"stage_{uuid.uuid4().hex[:12]}"
        self.stage = temp_table(name, cols.values())
        self.keys = temp_table(f"{name}_keys", self._columns(key))
        # The distinct first-target keys of a chunk, numbered, to ask which exist.
        self.probe = temp_table(
            f"{name}_probe", [*self._columns(targets[0].key), Column(_POS, Integer)]
        )
        for table in (self.stage, self.keys, self.probe):
            table.create(conn)
        if conn.dialect.name == "sqlite":
            # executemany checks a foreign key per row: a parent customer later in
            # the same chunk would fail. Check at COMMIT instead, as PostgreSQL's
            # COPY does at the end of the statement (until this transaction ends).
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        self.tuned = False
        # References the database does not enforce -> a TEMP table of the values
        # written (each chunk's distinct ones: a payments file names about as many
        # invoices as it has rows, so a set in Python would grow with the file).
        own = {t.table.name for t in targets}
        self.metadata = targets[0].table.metadata
        refs = dict.fromkeys(
            (column.name, ref)
            for t in targets
            for column in t.table.columns
            if (ref := column.info.get("references"))
            and column.name != "batch_id"
            and ref.split(".")[0] not in own
        )
        self.referenced: dict[tuple[str, str], Table] = {
            key: temp_table(f"{name}_ref{i}", [Column("value", Text)]) for i, key in enumerate(refs)
        }
        for table in self.referenced.values():
            table.create(conn)
        self.inserted = self.updated = self.changes = 0
        self.repeated: list[tuple] = []

    def _columns(self, names: Iterable[str]) -> list[Column]:
        return [Column(n, self.stage.c[n].type) for n in names]

    def drop(self) -> None:
        for table in (*self.referenced.values(), self.probe, self.keys, self.stage):
            table.drop(self.conn)

    def write(
        self, frame: pd.DataFrame, batch_id: int, entity: str, existing: pd.Series | None = None
    ) -> None:
        """Write one validated chunk (canonical text values, None = NULL); ``existing``:
        which rows' first-target key the database holds, when the caller knows (else
        asked here)."""
        if frame.empty:
            return
        conn = self.conn
        if conn.dialect.name == "postgresql" and not self.tuned:
            # Grouping and joining a chunk's rows spills to disk at the default
            # 4MB; this transaction only.
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
            self.tuned = True
        for (column, _ref), values in self.referenced.items():
            written = pd.DataFrame({"value": frame[column].dropna().unique()})
            bulk_insert(conn, values, written, ["value"])
        old = self._existing(frame) if existing is None else existing
        new = frame[~old] if old.any() else frame
        recount = None
        for target in self.targets:
            cols = [*target.key, *target.columns]
            rows = new
            # One row per key (a chunk's lines agree on their header once mismatches
            # are quarantined), in key order: the headers then go into the primary
            # key's B-tree at its right edge.
            if target.line_totals:
                # New invoices: all their lines are in this chunk.
                rows, totalled = new_invoices(new)
                if totalled:
                    cols = [*cols, "line_total"]
                else:
                    recount = rows[["invoice_id"]]
            elif target.grouped:
                rows = new.drop_duplicates(list(target.key)).sort_values(list(target.key))
            bulk_insert(conn, target.table, rows, cols, {"batch_id": batch_id})
        if recount is not None:
            self._recount(recount)
        self.inserted += len(new)
        if old.any():
            bulk_insert(conn, self.stage, frame[old], [c.name for c in self.stage.columns])
            analyse(conn, self.stage)
            self._careful(batch_id, entity)
            if self.targets[0].line_totals:
                recount_totals(conn, select(self.stage.c.invoice_id))
            empty_table(conn, self.stage)

    def _recount(self, invoices: pd.DataFrame) -> None:
        """Line totals of ``invoices`` (new ones, lines written) added up by the database."""
        bulk_insert(self.conn, self.probe, invoices, ["invoice_id"], numbered=_POS)
        recount_totals(self.conn, select(self.probe.c.invoice_id))
        empty_table(self.conn, self.probe)

    def _existing(self, frame: pd.DataFrame) -> pd.Series:
        """Which rows' first-target key is already in the database."""
        conn, first, probe = self.conn, self.targets[0], self.probe
        names = list(first.key)
        keys = frame[names].drop_duplicates()
        bulk_insert(conn, probe, keys, names, numbered=_POS)
        found = conn.scalars(
            select(probe.c[_POS]).select_from(
                probe.join(first.table, on_keys(first.table, probe, first.key))
            )
        ).all()
        empty_table(conn, probe)
        if not found:
            return pd.Series(False, index=frame.index)
        existing = keys.iloc[sorted(found)]
        if len(names) == 1:
            return frame[names[0]].isin(existing[names[0]])
        return pd.Series(
            pd.MultiIndex.from_frame(frame[names]).isin(pd.MultiIndex.from_frame(existing)),
            index=frame.index,
        )

    def _careful(self, batch_id: int, entity: str) -> None:
        conn, stage, last = self.conn, self.stage, self.targets[-1]
        src = staged_source(stage, last)
        # A key this batch wrote in an earlier chunk is repeated in the file.
        self.repeated += [
            tuple(row)
            for row in conn.execute(
                select(*[src.c[k] for k in last.key])
                .select_from(src.join(last.table, on_keys(last.table, src, last.key)))
                .where(last.table.c.batch_id == batch_id)
                .limit(5)
            )
        ]
        names = list(self.key)
        conn.execute(insert(self.keys).from_select(names, select(*[stage.c[n] for n in names])))
        # Diff every target before writing any: a line's previous customer is read
        # from the invoice header as it was before this chunk.
        diffs = [
            diff_target(conn, staged_source(stage, t), t, batch_id, entity) for t in self.targets
        ]
        for target, (counts, changes) in zip(self.targets, diffs, strict=True):
            write_target(conn, staged_source(stage, target), target, batch_id, counts)
            self.changes += write_changes(conn, iter(changes))
        self.inserted += diffs[-1][0].inserted
        self.updated += diffs[-1][0].updated

    def check_references(self) -> None:
        """Every value this batch wrote into a reference the database does not
        enforce (no per-row trigger on fact tables) resolves: each chunk's distinct
        values, gathered in a TEMP table while writing, in one anti-join each.
        References between the entity's own targets (a line's invoice) are written
        from the same rows."""
        for (column, ref), values in self.referenced.items():
            analyse(self.conn, values)
            missing = first_unresolved(self.conn, values.c.value, self.metadata, ref)
            if missing is not None:
                raise RuntimeError(
                    f"{column} {missing!r} does not resolve to {ref}: "
                    "validation should have quarantined the row; the batch is rolled back"
                )

    def duplicate_keys(self, limit: int = 5) -> list[tuple]:
        """Natural keys staged more than once in the batch (across chunks)."""
        cols = [self.keys.c[k] for k in self.key]
        query = select(*cols).group_by(*cols).having(func.count() > 1).limit(limit)
        found = [tuple(r) for r in self.repeated] + [tuple(r) for r in self.conn.execute(query)]
        return found[:limit]


def unresolved_references(conn: Connection, metadata: MetaData) -> list[str]:
    """Every ``info`` reference of the stored fact rows that does not resolve (want: [])."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            ref = column.info.get("references")
            if ref and (value := first_unresolved(conn, column, metadata, ref)) is not None:
                found.append(f"{table.name}.{column.name} {value!r} -> {ref}")
    return found


def first_unresolved(conn: Connection, column, metadata: MetaData, ref: str):
    """The greatest value of ``column`` with no row at ``ref`` ("table.column"), or None."""
    table_name, ref_column = ref.split(".")
    referred = metadata.tables[table_name].c[ref_column]
    resolves = select(literal(1)).where(referred == column).exists()
    # An aggregate, not LIMIT 1: with a LIMIT the planner probes the index once
    # per row (2.4 s per million) instead of one hash anti-join (0.3 s).
    return conn.scalar(select(func.max(column)).where(column.is_not(None), ~resolves))

"""Mapping files for foreign exports: rename, convert, compute, create, skip.

A mapping (YAML, ``--mapping FILE``) turns one foreign file into one canonical
entity. See examples/mappings/online-retail.yaml for every key in use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import IngestError

KNOWN_KEYS = {
    "name",
    "entity",
    "encoding",
    "delimiter",
    "date_format",
    "decimal_comma",
    "columns",
    "computed",
    "constants",
    "negate",
    "line_no",
    "create",
    "rows_without_customer",
    "source_columns",
    "description",
}


@dataclass
class Mapping:
    """A parsed mapping file (see examples/mappings/online-retail.yaml)."""

    name: str
    entity: str
    sha256: str
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str | None = None
    decimal_comma: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    computed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    negate: list[str] = field(default_factory=list)
    line_no: str | None = None
    create: dict[str, Any] = field(default_factory=dict)
    rows_without_customer: str = "reject"
    source_columns: list[str] = field(default_factory=list)

    @property
    def required_source(self) -> list[str]:
        """Source columns the mapping reads (the header must have them)."""
        needed = list(self.columns.values())
        for spec in self.computed.values():
            for cols in spec.values():
                needed += list(cols)
        cust = self.create.get("customers") or {}
        if cust.get("country_column"):
            needed.append(cust["country_column"])
        return list(dict.fromkeys(needed))

    @property
    def expected_source(self) -> list[str]:
        """Every source column the file may have (listed or read)."""
        return list(dict.fromkeys([*self.source_columns, *self.required_source]))


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; raises MAPPING_INVALID naming the file and key."""
    from models.canonical import ENTITIES

    try:
        text = path.read_bytes()
        doc = yaml.safe_load(text) or {}
    except OSError as exc:
        raise IngestError("MAPPING_INVALID", str(path), f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise IngestError(
            "MAPPING_INVALID", str(path), "not valid YAML", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(doc, dict):
        raise IngestError("MAPPING_INVALID", str(path), "must be a mapping of keys")
    unknown = set(doc) - KNOWN_KEYS
    if unknown:
        raise IngestError("MAPPING_INVALID", str(path), f"unknown key(s) {sorted(unknown)}")
    entity = doc.get("entity")
    if entity not in ENTITIES:
        raise IngestError(
            "MAPPING_INVALID", str(path), f"entity {entity!r} is not one of {sorted(ENTITIES)}"
        )
    fields_ = {k: v for k, v in doc.items() if k not in {"description"}}
    fields_.setdefault("name", path.stem)
    mapping = Mapping(sha256=hashlib.sha256(text).hexdigest(), **fields_)
    canonical = set(ENTITIES[entity].column_names) | {"description"}
    targets = set(mapping.columns) | set(mapping.computed) | set(mapping.constants)
    bad = sorted(targets - canonical)
    if bad:
        raise IngestError("MAPPING_INVALID", str(path), f"{entity} has no column(s) {bad}")
    return mapping


@dataclass
class Mapped:
    """A chunk after mapping: canonical frame, skipped rows, customers to create."""

    frame: pd.DataFrame  # canonical column names, strings
    skipped: int
    customers: pd.DataFrame | None  # customers to create (customer_id, name, country, status)


def _number(series: pd.Series, decimal_comma: bool) -> pd.Series:
    text = series.astype("str").str.strip()
    if decimal_comma:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return text


def _decimal_text(values: pd.Series) -> pd.Series:
    rounded = values.round(2)
    out = pd.Series(np.char.mod("%.2f", rounded.fillna(0).to_numpy()), index=values.index)
    return out.where(values.notna(), "").astype(object)


def apply_mapping(mapping: Mapping, raw: pd.DataFrame, state: dict[str, Any]) -> Mapped:
    """Turn a chunk of the foreign file into canonical string columns.

    ``state`` carries line numbers across chunks (an invoice may straddle two).
    """
    out: dict[str, pd.Series] = {}
    numeric_sources = set()
    for spec in mapping.computed.values():
        for cols in spec.values():
            numeric_sources.update(cols)
    for target, source in mapping.columns.items():
        col = raw[source].astype("str").str.strip()
        if target in {"quantity", "amount", "cost"} or source in numeric_sources:
            col = _number(col, mapping.decimal_comma)
        if target.endswith("customer_id") or target == "customer_id":
            col = col.str.replace(r"\.0$", "", regex=True)
        out[target] = col
    for target, spec in mapping.computed.items():
        ((op, cols),) = spec.items()
        nums = [
            pd.to_numeric(_number(raw[c], mapping.decimal_comma), errors="coerce") for c in cols
        ]
        if op == "multiply":
            value = nums[0]
            for n in nums[1:]:
                value = value * n
        elif op == "copy":
            value = nums[0]
        else:
            raise IngestError("MAPPING_INVALID", mapping.name, f"unknown operation {op!r}")
        out[target] = _decimal_text(value)
    for target in mapping.negate:
        col = out[target]
        out[target] = col.where(~col.str.startswith("-"), col.str[1:]).where(
            col.str.startswith("-") | (col == ""), "-" + col
        )
    for target, constant in mapping.constants.items():
        out[target] = pd.Series(str(constant), index=raw.index, dtype=object)
    frame = pd.DataFrame(out, index=raw.index)
    skipped = 0
    if "customer_id" in frame.columns and mapping.rows_without_customer == "skip":
        missing = frame["customer_id"] == ""
        skipped = int(missing.sum())
        frame = frame[~missing]
        raw = raw.loc[frame.index]
    if mapping.line_no == "by_position" and "invoice_id" in frame.columns:
        counts = state.setdefault("line_counts", {})
        pos = frame.groupby("invoice_id", sort=False).cumcount() + 1
        offset = frame["invoice_id"].map(counts).fillna(0).astype("int64")
        frame["line_no"] = (pos + offset).astype(str)
        last = frame.groupby("invoice_id", sort=False)["line_no"].last().astype(int)
        # Only the previous chunk's invoices can continue: memory stays bounded.
        state["line_counts"] = last.to_dict()
    customers = None
    cust = mapping.create.get("customers") or {}
    if cust.get("from_rows") and "customer_id" in frame.columns:
        ids = frame[["customer_id"]].copy()
        country_col = cust.get("country_column")
        ids["country"] = raw[country_col].astype("str").str.strip() if country_col else None
        ids = ids[ids["customer_id"] != ""].drop_duplicates("customer_id")
        template = cust.get("name", "Customer {customer_id}")
        ids["name"] = [template.format(customer_id=c) for c in ids["customer_id"]]
        ids["status"] = cust.get("status", "active")
        customers = ids
    return Mapped(frame, skipped, customers)

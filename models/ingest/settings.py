"""The ``ingest:`` section of the rules file, typed and checked."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from models.config import load_config, section
from models.errors import ConfigError


@dataclass(frozen=True)
class IngestConfig:
    """The ``ingest:`` rules (see models/defaults.yaml for what each means)."""

    row_quarantine_threshold: float = 0.01
    future_tolerance_days: int = 7
    min_date: date = date(2000, 1, 1)
    max_amount: float = 10_000_000
    max_quantity: float = 1_000_000
    allowed_currencies: tuple[str, ...] = ("EUR",)
    overpayment_tolerance: float = 0.01
    max_file_bytes: int = 4 * 1024**3
    max_rows: int = 50_000_000
    min_rows: int = 1
    unknown_columns: str = "warn"
    chunk_rows: int = 200_000
    max_quarantine_records: int = 10_000
    claim_lease_seconds: float = 120.0
    claim_wait_seconds: float = 600.0
    data_docs_keep: int = 30
    quarantine_opposite_signs: bool = True
    quarantine_zero_quantity_amount: bool = True


def ingest_config(config: dict[str, Any] | None = None) -> IngestConfig:
    """Read and check the ``ingest`` section (defaults from models/defaults.yaml)."""
    raw = section(config if config is not None else load_config(), "ingest")
    if "stale_batch_minutes" in raw:  # say what replaced it, not just "unknown key"
        raise ConfigError(
            "rules section ingest: stale_batch_minutes is gone: a batch claim now ends when "
            "its lease runs out (claim_lease_seconds, default 120); remove the key"
        )
    known = {f.name: f for f in fields(IngestConfig)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"rules section ingest: unknown key(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            if name == "min_date":
                values[name] = date.fromisoformat(str(value))
            elif name == "allowed_currencies":
                values[name] = tuple(str(c).upper() for c in value)
            elif isinstance(getattr(IngestConfig, name), bool):
                if not isinstance(value, bool):  # bool("false") is True: refuse, never guess
                    raise ValueError("must be true or false")
                values[name] = value
            elif name == "unknown_columns":
                if value not in {"warn", "reject"}:
                    raise ValueError("must be warn or reject")
                values[name] = value
            else:
                values[name] = type(getattr(IngestConfig, name))(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"rules section ingest: {name}={value!r} is invalid ({exc})"
            ) from None
    cfg = IngestConfig(**values)
    if not 0 <= cfg.row_quarantine_threshold <= 1:
        raise ConfigError("rules section ingest: row_quarantine_threshold must be within 0..1")
    if cfg.chunk_rows < 1 or cfg.max_rows < 1:
        raise ConfigError("rules section ingest: chunk_rows and max_rows must be positive")
    if cfg.claim_lease_seconds < 3 or cfg.claim_wait_seconds < 0:
        raise ConfigError(
            "rules section ingest: claim_lease_seconds must be 3 or more and "
            "claim_wait_seconds 0 or more"
        )
    if cfg.data_docs_keep < 0:
        raise ConfigError("rules section ingest: data_docs_keep must be 0 (none) or more")
    return cfg

"""Run a committed suite on a pandas DataFrame with Great Expectations 1.x.

Returns our own :class:`models.ingest.validation.ValidationOutcome`: rows that
broke row-level rules (by DataFrame index label, result_format COMPLETE) and
the batch-level failures (``meta.level: batch``). GX is imported lazily (it
costs seconds) and its ephemeral context is built once per process.
"""

from __future__ import annotations

import os
import threading
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from models.ingest.settings import IngestConfig
from models.ingest.validation import ValidationOutcome

from .data_docs import merge_results, show_looked_up_values
from .suites import suite_expectations

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _in_set(values: pd.Series, keys) -> np.ndarray:
    """Which of ``values`` are among ``keys`` (a set, or an Arrow array of text; unknown
    values: False). Arrow text is tested by Arrow: pandas' ``isin`` on it turns every
    key into an Arrow scalar first (about 1 s per chunk against the 200,000 invoice ids
    payments refer to)."""
    import pyarrow as pa

    dtype = values.dtype
    given = isinstance(keys, pa.Array)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow.compute as pc

        try:
            wanted = keys if given else pa.array(list(keys), type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # keys that are not text
            wanted = None
        if wanted is not None:
            found = pc.is_in(pa.array(values.array), value_set=wanted)
            return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return values.isin(keys.to_pylist() if given else keys).to_numpy()


def _batch_definition():
    """The per-process GX context and its one whole-DataFrame batch definition."""
    with _lock:
        if "bd" not in _state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every batch below this size by hashing all of it
            # (a batch marker nothing here reads): 1.6 s per million rows, twice.
            pandas_execution_engine.HASH_THRESHOLD = 0

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("accountops").add_dataframe_asset("batch")
            _state["gx"] = gx
            _state["bd"] = asset.add_batch_definition_whole_dataframe("whole")
        return _state["gx"], _state["bd"]


class SuiteRunner:
    """Callable validator for the ingest service: ``runner(entity, frame, params)``.

    ``params`` holds the run-time placeholder values (``known.<table>`` key
    sets); the rules file and as-of date fill the rest. The GX results of the chunks it
    validated are folded into one per entity (bounded samples, see data_docs.py) until
    :meth:`take_validation` hands them over for the batch's Data Docs.
    """

    def __init__(self, config: IngestConfig, as_of: date) -> None:
        self.config, self.as_of = config, as_of
        self._suites: dict[str, Any] = {}
        self._validated: dict[str, Any] = {}

    def expectations(self, entity: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The suite as GX runs it, and the foreign-key columns it looks up.

        A rule ``expect_column_values_to_be_in_set`` whose value set is
        ``${known.TABLE}`` runs as ``expect_column_values_to_not_be_null`` on a
        lookup column ``__fk__COLUMN`` (1 where the value exists or is empty):
        GX's in-set costs time in proportion to the set (18 s per 250k rows at
        50k customers), a pandas ``isin`` does not. Same rule, code and rows.
        """
        out, lookups = [], {}
        for exp in suite_expectations(entity, self.config, self.as_of):
            kwargs = exp["kwargs"]
            value_set = kwargs.get("value_set")
            if (
                exp["type"] == "expect_column_values_to_be_in_set"
                and isinstance(value_set, str)
                and value_set.startswith("${known.")
            ):
                column = kwargs["column"]
                lookups[column] = value_set[2:-1]
                exp = {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": f"__fk__{column}"},
                    "meta": {**exp.get("meta", {}), "column": column, "as_written": exp["type"]},
                    # What Data Docs says instead of "__fk__... must never be null".
                    "description": f"{column} values must name a known {lookups[column][6:]}"
                    " (in the database or in this batch).",
                }
            out.append(exp)
        return out, lookups

    def _suite(self, entity: str):
        if entity not in self._suites:
            gx, _ = _batch_definition()
            expectations, lookups = self.expectations(entity)
            suite = gx.ExpectationSuite(name=f"accountops-{entity}", expectations=expectations)
            self._suites[entity] = (suite, lookups)
        return self._suites[entity]

    def __call__(
        self, entity: str, frame: pd.DataFrame, params: dict[str, Any]
    ) -> ValidationOutcome:
        suite, lookups = self._suite(entity)
        _, bd = _batch_definition()
        if lookups:
            frame = frame.copy(deep=False)
            for column, name in lookups.items():
                if name not in params:
                    raise RuntimeError(f"suite {entity}: no key set {name} for {column}")
                values = frame[column]
                ok = values.isna().to_numpy() | _in_set(values, params[name])
                frame[f"__fk__{column}"] = np.where(ok, 1.0, np.nan)
        with _lock:  # GX's context is not meant for concurrent validations
            batch = bd.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        outcome = ValidationOutcome()
        for r in result.results:
            cfg = r.expectation_config
            meta = cfg.meta or {}
            rule = meta.get("rule", "VALUE_NOT_ALLOWED")
            level = meta.get("level", "row")
            # meta.column names the file's column when the rule checks a derived one.
            column = (
                meta.get("column")
                or cfg.kwargs.get("column")
                or ",".join(cfg.kwargs.get("column_list") or [])
            )
            info = r.exception_info or {}
            if info.get("raised_exception") or any(
                isinstance(v, dict) and v.get("raised_exception") for v in info.values()
            ):
                raise RuntimeError(f"suite {entity}: {cfg.type} on {column} failed to run")
            res = r.result or {}
            rows = [int(i) for i in (res.get("unexpected_index_list") or [])]
            outcome.summary.append(
                {
                    "type": cfg.type,
                    "column": column or None,
                    "rule": rule,
                    "level": level,
                    "success": bool(r.success),
                    "unexpected_count": int(res.get("unexpected_count") or 0),
                }
            )
            if r.success:
                continue
            if level == "batch":
                outcome.batch.append((rule, column or None, rows))
            else:
                for i in rows:
                    outcome.rows.setdefault(i, []).append((rule, column or None))
        if lookups and not result.success:
            show_looked_up_values(result, frame, lookups)
        self._validated[entity] = merge_results(self._validated.get(entity), result)
        return outcome

    def take_validation(self, entity: str) -> Any | None:
        """The GX result of the chunks of ``entity`` validated since the last call, folded
        into one (None when none was): what the batch's Data Docs page shows."""
        return self._validated.pop(entity, None)

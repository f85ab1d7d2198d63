"""What a mistake costs: the CLI refusing a file nothing matches, and the length check.

python benchmarks/mistakes.py [--lines 200000] [--repeat 5]

``refusal_cpu_seconds``: CPU time (user + system) of ``accountops ingest`` given a file no
entity matches (``hostname``), which it refuses before Prefect starts, beside
``help_cpu_seconds`` of ``accountops --help`` (the floor any command pays); best of
``--repeat``. ``seconds``: the VALUE_TOO_LONG check of normalise (every text column
with a declared length) on ``--lines`` invoice lines, best of ``--repeat``;
``typing_seconds``: the whole typing of the same chunk, the check included.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import progress, report

ROOT = Path(__file__).resolve().parents[1]


def cli_cpu_seconds(args: list[str], env: dict[str, str]) -> float:
    """CPU seconds of one ``accountops`` run (its process and children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], env=env, cwd=ROOT, capture_output=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pandas as pd

    from models.db import make_engine
    from models.ingest.entities import column_lengths
    from models.ingest.normalise import normalise
    from models.migrate import upgrade
    from tests.ingest_builders import fixture_batch

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'db.sqlite'}"
        upgrade(make_engine(url))
        stray = Path(tmp) / "hostname"
        stray.write_text("build-host-7\n", encoding="utf-8")
        env = {**os.environ, "ACCOUNTOPS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        progress("timing the CLI ...")
        refusal = min(cli_cpu_seconds(["ingest", str(stray)], env) for _ in range(args.repeat))
        floor = min(cli_cpu_seconds(["--help"], env) for _ in range(args.repeat))

        base = fixture_batch(Path(tmp) / "fixture")
        raw = pd.read_csv(
            base / "invoice_lines.csv", dtype="string[pyarrow]", keep_default_na=False
        )
    raw = pd.concat([raw] * (args.lines // len(raw) + 1), ignore_index=True).iloc[: args.lines]
    lengths = column_lengths("invoice_lines")
    columns = {c: raw[c].str.strip() for c in lengths if c in raw}

    def check() -> None:  # the lines normalise runs per text column
        for column, text in columns.items():
            (text.str.len() > lengths[column]).fillna(False).any()

    def best(work) -> float:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times)

    progress(f"timing the length check on {args.lines:,} lines ...")
    seconds = best(check)
    typing = best(lambda: normalise("invoice_lines", raw))
    report(
        "mistakes",
        args.lines,
        seconds,
        text_columns=len(columns),
        typing_seconds=round(typing, 3),
        refusal_cpu_seconds=round(refusal, 3),
        help_cpu_seconds=round(floor, 3),
        load_average=round(os.getloadavg()[0], 1),
    )


if __name__ == "__main__":
    main()

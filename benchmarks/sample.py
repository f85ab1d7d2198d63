"""How fast the sample generator writes the canonical files, and how much memory it needs.

    python benchmarks/sample.py --customers 50000 --years 3 [--out DIR] [--seed 42]

Writes into a temporary folder (removed afterwards) unless ``--out`` is given.
Progress goes to stderr; the last line on stdout is the JSON figures, with
``rows`` = invoice lines written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import progress, report, stopwatch

from models.sampledata import generate_sample


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args(argv)

    def show(file_name: str, rows: int) -> None:
        if file_name == "invoice_lines.csv":
            progress(f"{file_name}: {rows:,} rows")

    with tempfile.TemporaryDirectory(prefix="accountops-sample-") as tmp:
        out = args.out or Path(tmp)
        with stopwatch() as elapsed:
            counts = generate_sample(
                out, customers=args.customers, years=args.years, seed=args.seed, progress=show
            )
        seconds = elapsed()
        size_mb = sum(p.stat().st_size for p in out.glob("*.csv")) / 2**20
    for name, rows in counts.items():
        progress(f"  {name:<26} {rows:>12,} rows")
    return report(
        "sample",
        counts["invoice_lines.csv"],
        seconds,
        customers=args.customers,
        years=args.years,
        files_mb=round(size_mb, 1),
    )


if __name__ == "__main__":
    main()

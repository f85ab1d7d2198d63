"""What a batch's Great Expectations Data Docs cost: the fold per chunk and the page.

python benchmarks/data_docs.py --lines 1000000 [--bad-every 1000] [--keep 30]

Ingests invoice lines (one row in ``--bad-every`` with an amount out of range) into a
fresh SQLite database through the service with the suite runner, timing the runner's
fold of each chunk's GX result (``merge_seconds``, inside the load), then writes the
batch's page the way the ingest task does after the COMMIT (``page_ms``: render + write
+ prune + index) into a site that already holds ``--keep`` runs (the index lists them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import progress, report
from ingest import AS_OF, generate, warm_up

from models.db import make_engine
from models.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--bad-every", type=int, default=1000)
    parser.add_argument("--keep", type=int, default=30)
    args = parser.parse_args()

    import expectations.runner as runner_module
    from expectations.data_docs import BatchFacts, publish_validation
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    folded = [0.0]
    fold = runner_module.merge_results

    def timed_fold(total, chunk):
        start = time.perf_counter()
        try:
            return fold(total, chunk)
        finally:
            folded[0] += time.perf_counter() - start

    runner_module.merge_results = timed_fold
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        progress(f"generating {args.lines:,} invoice lines")
        path = generate(folder, args.lines)
        lines = path.read_text().splitlines(keepends=True)
        for i in range(1, len(lines), args.bad_every):  # amount (column 9) out of range
            cells = lines[i].split(",")
            cells[8] = "99999999999"
            lines[i] = ",".join(cells)
        path.write_text("".join(lines))
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        config = ingest_config()
        runner = SuiteRunner(config, AS_OF)
        warm_up(runner)
        runner.take_validation("product_lines")
        for name in ("product_lines", "customers"):
            ingest_file(
                engine, folder / f"{name}.csv", validator=runner, config=config, as_of=AS_OF
            )
            runner.take_validation(name)
        folded[0] = 0.0
        progress("ingesting the invoice lines")
        start = time.perf_counter()
        result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
        ingest_seconds = time.perf_counter() - start
        validation = runner.take_validation("invoice_lines")
        site = folder / "data_docs"
        facts = BatchFacts(
            result.batch_id or 0,
            "invoice_lines",
            result.file,
            result.outcome,
            result.message,
            result.rows_read,
            result.rows_quarantined,
        )
        for i in range(args.keep):  # a site already holding `keep` runs
            publish_validation(
                site, args.keep, validation, BatchFacts(**{**vars(facts), "batch_id": 10_000 + i})
            )
        start = time.perf_counter()
        page = publish_validation(site, args.keep, validation, facts)
        page_seconds = time.perf_counter() - start
        engine.dispose()
        report(
            "data_docs",
            result.rows_read,
            ingest_seconds,
            outcome=result.outcome,
            rows_quarantined=result.rows_quarantined,
            merge_seconds=round(folded[0], 4),
            page_ms=round(page_seconds * 1000),
            page_kb=round(page.stat().st_size / 1024),
            runs_kept=len(list((site / "validations").glob("*/batch-*/*"))),
        )


if __name__ == "__main__":
    main()

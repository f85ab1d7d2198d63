"""Which entities' latest delivery was refused: what every page's provenance line warns of."""

from __future__ import annotations

from sqlalchemy import insert

from models.dashboard.data_health import latest_refused
from models.schema import BatchStatus, IngestBatch

C, R, Q, D, A = (
    BatchStatus.COMMITTED,
    BatchStatus.REJECTED,
    BatchStatus.QUARANTINED,
    BatchStatus.DUPLICATE,
    BatchStatus.ABANDONED,
)


def test_the_newest_decided_batch_of_each_entity_counts(engine):
    history = [
        ("invoice_lines", C),
        ("invoice_lines", R),  # 2: the latest invoices were refused
        ("payments", R),
        ("payments", C),  # 4: a good file came after: nothing to warn of
        ("customers", Q),  # 5: refused, and the duplicate and abandoned runs after it
        ("customers", D),  #    decided nothing
        ("customers", A),
        ("wallet_estimates", C),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(IngestBatch),
            [
                {
                    "source": f"file:{entity}",
                    "entity": entity,
                    "file_name": f"{entity}.csv",
                    "content_sha256": f"{i:064d}",
                    "status": status,
                }
                for i, (entity, status) in enumerate(history, start=1)
            ],
        )
    found = latest_refused(engine)
    assert sorted(zip(found["entity"], found["batch_id"], strict=True)) == [
        ("customers", 5),
        ("invoice_lines", 2),
    ]


def test_nothing_refused_nothing_found(engine):
    assert latest_refused(engine).empty

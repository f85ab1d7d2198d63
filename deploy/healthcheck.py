"""Container health check: exit 0 when URL answers HTTP 200 within 5 s, else 1.

    python deploy/healthcheck.py http://127.0.0.1:8501/_stcore/health   (dashboard)
    python deploy/healthcheck.py http://127.0.0.1:4200/api/health       (Prefect server)
    python deploy/healthcheck.py http://127.0.0.1:8080/health           (Prefect worker)

The slim image has no curl or wget; this needs only Python's standard library.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].startswith("http://"):
        print("usage: healthcheck.py http://HOST:PORT/PATH", file=sys.stderr)
        return 2
    try:
        # The scheme is checked above: only plain http to the container's own ports.
        with urllib.request.urlopen(argv[0], timeout=5) as response:  # noqa: S310
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {argv[0]}: {exc}", file=sys.stderr)
        return 1
    if not healthy:
        print(f"unhealthy: {argv[0]}: HTTP {response.status}", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

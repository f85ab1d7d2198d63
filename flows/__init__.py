"""Prefect flows, tasks and the command line.

Platform defaults for Prefect are set here, before any module imports
prefect: no telemetry (it also causes "database is locked" tracebacks on the
temporary server) and a start-up timeout that a loaded 2-core machine meets.
"""

import os

for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_name, _value)

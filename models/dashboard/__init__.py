"""The executive dashboard's data: the refresh that writes its tables, and the read models
the pages call (pages never touch the schema or SQL themselves)."""

from .refresh import RefreshResult, SnapshotNotReady, refresh_dashboard

__all__ = ["RefreshResult", "SnapshotNotReady", "refresh_dashboard"]

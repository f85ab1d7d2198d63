"""Deterministic sample data: the ten canonical CSV files at any scale.

``generate_sample(out_dir, customers=..., years=..., seed=...)`` writes them; the
same arguments always give byte-identical files.
"""

from .generator import generate_sample

__all__ = ["generate_sample"]

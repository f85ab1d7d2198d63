"""Roadmap vs customer strategy: matching roadmap items to customer initiatives, the value
at stake and the scores executives read (DOMAIN.md section 8)."""

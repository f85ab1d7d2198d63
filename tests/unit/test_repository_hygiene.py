"""S1: no secrets committed; the Streamlit secrets file is ignored."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = re.compile(r"^\s*(cookie_secret|client_secret|password)\s*=\s*\"?([^\"\n]*)", re.M)
PLACEHOLDER = re.compile(r"^(|<.*>|change-?me.*|\.\.\.|xxx+|your[-_ ].*)$", re.I)


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:  # not a git checkout: scan the tree
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [ROOT / name for name in out.stdout.splitlines()]


def test_secrets_toml_is_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored


def test_no_secret_values_in_tracked_files():
    leaks = []
    for path in tracked_files():
        if path.suffix not in {".toml", ".yaml", ".yml", ".ini", ".env", ".cfg"}:
            continue
        for match in SECRET.finditer(path.read_text(errors="replace")):
            if not PLACEHOLDER.match(match.group(2).strip()):
                leaks.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert leaks == []

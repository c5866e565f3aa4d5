"""Every data file the code reads under agent/ ships in the package: a wheel (the Docker image's
`pip install .`) holds only .py files and what [tool.setuptools.package-data] names."""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_under_agent_is_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["*"]
    data = [p for p in (ROOT / "agent").rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts]
    assert data, "agent/ holds data files (fits, cue lists): the test would check nothing"
    missing = [str(p.relative_to(ROOT)) for p in data if not any(fnmatch.fnmatch(p.name, g) for g in globs)]
    assert missing == []

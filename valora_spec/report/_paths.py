"""Where the report's data files live in the checkout (partners run the suite from a clone)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = REPO_ROOT / "reports" / "report.schema.json"
TEMPLATES_DIR = REPO_ROOT / "reports" / "templates"

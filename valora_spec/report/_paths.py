"""Where the report format's files are: package data (see valora_spec._paths)."""

from __future__ import annotations

from valora_spec._paths import REPORTS_DIR

REPORT_SCHEMA = REPORTS_DIR / "report.schema.json"
TEMPLATES_DIR = REPORTS_DIR / "templates"

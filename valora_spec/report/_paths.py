"""The report format's own files: package data of valora_spec.report, read via importlib.resources.

No path leaves the package, so an installed wheel and a clone read the same files.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

PACKAGE = "valora_spec.report"
REPORT_SCHEMA: Traversable = files(PACKAGE) / "schema" / "report.schema.json"
TEMPLATES = "templates"  # a folder of PACKAGE, for jinja2's PackageLoader

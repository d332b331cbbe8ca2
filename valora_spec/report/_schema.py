"""Validate a report against the package's schema/report.schema.json."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from valora_spec.report._paths import REPORT_SCHEMA


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def report_schema() -> dict[str, Any]:
    """A copy, so a caller cannot change what later validations check against."""
    return copy.deepcopy(dict(_validator().schema))


def schema_version() -> str:
    return str(_validator().schema["properties"]["schema_version"]["const"])


def validate_report(report: Any) -> None:
    """Raise ValueError naming the first problems when the report does not match the schema."""
    errors = sorted(_validator().iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:5]]
        raise ValueError("report does not match report.schema.json:\n  " + "\n  ".join(lines))

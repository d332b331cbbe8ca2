"""JSON Schema (Draft 2020-12) validation against the spec's own schemas.

Two deliberate differences from jsonschema's defaults, both to read the spec as ECMA-262 does:
`$` in a pattern ends the string (Python's `$` also matches before a final newline), and an
integral JSON number such as `1.0` is an integer. Only the format `date-time` is asserted
(VAL-TIME-001); `email` is an annotation, its `pattern` alone validates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from valora_spec.reference._times import parse_rfc3339


@functools.lru_cache(maxsize=256)
def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(
    validator: Any, pattern: str, instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _ecma_pattern(pattern).search(instance):
        yield ValidationError(f"does not match {pattern}")


def _is_integer(checker: object, instance: object) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return False


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or parse_rfc3339(instance) is not None


# Only `date-time` is an asserted format (VAL-TIME-001): `email` and every other format are
# annotations, a value is validated by its `pattern` alone.


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    validators={"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def pointer(*parts: str | int) -> str:
    """A JSON pointer into the spec document."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped)


class SchemaSet:
    """Validators for schemas addressed by JSON pointers into one spec document.

    Local `$ref`s are inlined once when a validator is built (the spec has no recursive
    schemas), so validating a request resolves no references.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def validator(self, ref: str) -> Any:
        return _Validator(self.inline(self.at(ref)), format_checker=_FORMATS)

    def inline(self, node: Any, depth: int = 0) -> Any:
        if depth > 32:
            raise ValueError("recursive schema")
        if isinstance(node, list):
            return [self.inline(item, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self.inline(self.at(node["$ref"]), depth + 1)
            siblings = {k: self.inline(v, depth + 1) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings}
        return {key: self.inline(value, depth + 1) for key, value in node.items()}

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a schema with content."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.at(node["$ref"])
        return node

    def at(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.lstrip("#/").split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node


def param_path(prefix: str, path: Any) -> str:
    """`tiers[1].up_to` style name for an error location."""
    name = prefix
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name


def errors_to_params(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    """Readable `{name, reason}` entries for validation errors, one per name."""
    found: dict[str, str] = {}
    for error in errors:
        for name, reason in _explain(error, prefix):
            found.setdefault(name or "body", reason)
    return [{"name": name, "reason": reason} for name, reason in found.items()]


def _explain(error: ValidationError, prefix: str) -> list[tuple[str, str]]:
    here = param_path(prefix, error.absolute_path)
    keyword, expected = error.validator, error.validator_value
    instance = error.instance
    if keyword == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        return [(param_path(here, [name]), "is required") for name in missing]
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [name for name in instance if name not in known]
        if expected is False:
            return [(param_path(here, [name]), "unknown field") for name in extra]
        return [(here, "has an invalid value")]
    return [(here, _reason(keyword, expected))]


def _reason(keyword: Any, expected: Any) -> str:
    match keyword:
        case "type":
            kinds = expected if isinstance(expected, list) else [expected]
            return "must be of type " + " or ".join(kinds)
        case "enum":
            return "must be one of: " + ", ".join(str(v) for v in expected)
        case "const":
            return f"must be {expected}"
        case "pattern":
            return f"must match the pattern {expected}"
        case "format":
            return "must be an RFC 3339 date-time" if expected == "date-time" else (
                f"must be a valid {expected}")
        case "minLength" | "minimum" | "minItems" | "minProperties":
            return f"must be at least {expected}{_UNITS[keyword]}"
        case "maxLength" | "maximum" | "maxItems" | "maxProperties":
            return f"must be at most {expected}{_UNITS[keyword]}"
        case "oneOf":
            return "does not match any allowed shape"
    return f"is invalid ({keyword})"


_UNITS = {
    "minLength": " characters long", "maxLength": " characters long",
    "minItems": " items", "maxItems": " items",
    "minProperties": " fields", "maxProperties": " fields",
    "minimum": "", "maximum": "",
}

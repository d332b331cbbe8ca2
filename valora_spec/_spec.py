"""Find, load and walk the released spec documents (`spec/<X.Y.Z>/openapi.yaml`).

The one place released specs and the requirements catalogue are read, and the one `$ref`
resolver: shared by the `valora-spec` CLI, the conformance catalogue, compat and the spec tests.
Only local `$ref`s (`#/...`) are used in this repository: every version is one self-contained
document. jsonschema and referencing are imported where used: compat resolves through this module
and must not pay for them at startup.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from valora_spec import _versions
from valora_spec._paths import source_root

if TYPE_CHECKING:
    from jsonschema import FormatChecker

SPEC_FILE = "openapi.yaml"
RELEASES_FILE = "releases.json"
REQUIREMENTS_FILE = "requirements.yaml"
_DOC_URI = "urn:valora:spec"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Keywords whose value is a schema, a list of schemas, or a map of name -> schema.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")
# RFC 3986 characters; jsonschema only checks uri formats when rfc3986-validator is installed.
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def repo_root() -> Path:
    """The folder holding spec/ and profiles/: the repository in a clone, the package data when installed."""
    return source_root()


def versions_in(spec_dir: Path) -> list[str]:
    """Every `X.Y.Z/` folder of `spec_dir` holding an openapi.yaml, oldest first."""
    found = [p.name for p in spec_dir.iterdir()
             if _versions.is_release_name(p.name) and (p / SPEC_FILE).is_file()]
    return _versions.sort_versions(found)


def released_versions(root: Path | None = None) -> list[str]:
    """Every `spec/X.Y.Z/` folder holding an openapi.yaml, oldest first."""
    return versions_in((root or repo_root()) / "spec")


def spec_path(version: str, root: Path | None = None) -> Path:
    return (root or repo_root()) / "spec" / version / SPEC_FILE


def requirements_path(root: Path | None = None) -> Path:
    return (root or repo_root()) / "spec" / REQUIREMENTS_FILE


def read_yaml(path: Path) -> tuple[Any, str]:
    """The document at `path`, and the SHA-256 of the very bytes it was parsed from."""
    data = path.read_bytes()
    return yaml.load(data.decode("utf-8"), Loader=_LOADER), hashlib.sha256(data).hexdigest()


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


def load_spec(version: str, root: Path | None = None) -> dict[str, Any]:
    """A released spec, `spec/<version>/openapi.yaml`."""
    return load_yaml(spec_path(version, root))


def folder_digests(folder: Path) -> dict[str, str]:
    """SHA-256 (hex) of every file below `folder`, keyed by its POSIX path relative to it."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}


def load_releases(root: Path | None = None) -> dict[str, dict[str, str]]:
    """The recorded digests of spec/releases.json: version -> {file: sha256}; {} when absent."""
    path = (root or repo_root()) / "spec" / RELEASES_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["releases"]


def load_catalogue(root: Path | None = None) -> dict[str, Any]:
    """The requirements catalogue, `spec/requirements.yaml`, as written (`requirements` and all)."""
    return load_yaml(requirements_path(root))


def load_requirements(root: Path | None = None) -> list[dict[str, Any]]:
    return load_catalogue(root)["requirements"]


def escape(part: object) -> str:
    """One JSON pointer segment (RFC 6901): `~` and `/` escaped."""
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    """A JSON pointer fragment (`#/a/b~1c`) from its unescaped parts."""
    return "#" + "".join("/" + escape(p) for p in parts)


def resolve(doc: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/...`) points at; LookupError when it points nowhere."""
    if not ref.startswith("#"):
        raise LookupError(f"not a local reference: {ref}")
    node = doc
    for raw in [p for p in ref[1:].split("/")][1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise LookupError(f"unresolvable reference: {ref}")
    return node


def deref(doc: Any, node: Any) -> Any:
    """Follow `$ref` chains of an OpenAPI object (not a schema: its siblings are dropped)."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        if node["$ref"] in seen:
            raise LookupError(f"reference cycle at {node['$ref']}")
        seen.add(node["$ref"])
        node = resolve(doc, node["$ref"])
    return node


def iter_refs(node: Any, *path: str | int) -> Iterator[tuple[str, str]]:
    """(location, target) of every `$ref` string below `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield pointer(*path), node["$ref"]
        for key, value in node.items():
            yield from iter_refs(value, *path, key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, *path, index)


def unresolved_refs(doc: dict[str, Any]) -> list[str]:
    problems = []
    for where, ref in iter_refs(doc):
        try:
            resolve(doc, ref)
        except LookupError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def iter_schemas(doc: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path, schema) of every schema object: components.schemas, every `schema`, and subschemas."""

    def schema_tree(path: tuple[str | int, ...], schema: Any) -> Iterator:
        if not isinstance(schema, dict):
            return
        yield path, schema
        for key in _ONE:
            yield from schema_tree((*path, key), schema.get(key))
        for key in _LIST:
            for index, sub in enumerate(schema.get(key) or []):
                yield from schema_tree((*path, key, index), sub)
        for key in _MAP:
            for name, sub in (schema.get(key) or {}).items():
                yield from schema_tree((*path, key, name), sub)

    def objects(path: tuple[str | int, ...], node: Any) -> Iterator:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("example", "examples") and "schema" in node:
                    continue
                if key == "schema":
                    yield from schema_tree((*path, key), value)
                elif path == ("components",) and key == "schemas":
                    for name, schema in value.items():
                        yield from schema_tree((*path, key, name), schema)
                else:
                    yield from objects((*path, key), value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from objects((*path, index), value)

    yield from objects((), doc)


def iter_examples(doc: dict[str, Any]) -> Iterator[tuple[str, tuple[str | int, ...], Any]]:
    """(location, path of the schema it must satisfy, example) of every example in the document.

    Covers schema `examples` (and the deprecated schema `example`) and the `example`/`examples`
    of media types, parameters and headers (Example objects, by value or `$ref`).
    """
    for path, schema in iter_schemas(doc):
        for index, value in enumerate(schema.get("examples") or []):
            yield pointer(*path, "examples", index), path, value
        if "example" in schema:
            yield pointer(*path, "example"), path, schema["example"]

    def holders(path: tuple[str | int, ...], node: Any) -> Iterator:
        if isinstance(node, dict):
            if "schema" in node and isinstance(node["schema"], dict):
                schema_at = (*path, "schema")
                if "example" in node:
                    yield pointer(*path, "example"), schema_at, node["example"]
                for name, example in (node.get("examples") or {}).items():
                    example = deref(doc, example)
                    yield pointer(*path, "examples", name), schema_at, example.get("value")
            for key, value in node.items():
                if key in ("schema", "example", "examples"):
                    continue
                if path == ("components",) and key == "schemas":
                    continue
                yield from holders((*path, key), value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from holders((*path, index), value)

    yield from holders((), doc)


def format_checker() -> FormatChecker:
    """Draft 2020-12 format checking, plus `uri` and `uri-reference` (not checked by default)."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)

    @checker.checks("uri-reference")
    def _uri_reference(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI_CHARS.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(_URI_CHARS.match(value) and _URI_SCHEME.match(value))

    return checker


def example_errors(doc: dict[str, Any]) -> list[str]:
    """One line per example that does not validate against its schema (Draft 2020-12, formats)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource(_DOC_URI, DRAFT202012.create_resource(doc))
    checker = format_checker()
    problems = []
    for where, schema_path, example in iter_examples(doc):
        validator = Draft202012Validator({"$ref": _DOC_URI + pointer(*schema_path)},
                                         registry=registry, format_checker=checker)
        for error in validator.iter_errors(example):
            at = "/".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"{where}: {at}: {error.message}")
    return problems

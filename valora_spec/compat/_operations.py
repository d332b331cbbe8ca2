"""Walk the operations of two versions and report what changed in each."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._fingerprint import Fingerprints
from ._model import Location
from ._resolve import Resolver, join, pointer
from ._schema_diff import REQUEST, RESPONSE, SchemaDiffer
from ._security import diff_security, effective

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# OpenAPI says these header parameters are ignored: they are described elsewhere.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
OPERATION_DOCS = ("summary", "description", "externalDocs", "tags")
PARAMETER_DOCS = ("description", "example", "examples")

# emit(rule, side, message, location, anchor): anchor None means "this place only".
Emit = Callable[[str, str, str, Location, str | None], None]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the path template, or the webhook's name
    node: dict[str, Any]
    path_item: dict[str, Any]
    root: str = "paths"  # or "webhooks"

    @property
    def label(self) -> str:
        if self.root == "webhooks":
            return f"{self.method.upper()} webhook {self.path}"
        return f"{self.method.upper()} {self.path}"

    @property
    def item_pointer(self) -> str:
        return pointer(self.root, self.path)

    @property
    def pointer(self) -> str:
        return pointer(self.root, self.path, self.method)


def index_operations(resolver: Resolver) -> dict[tuple[str, str], Operation]:
    """Operations keyed by method and path template, with parameter names blanked:
    `/invoices/{id}` and `/invoices/{invoiceId}` are the same operation.

    Webhooks (3.1) are operations too, keyed by name: the same rules apply to them.
    """
    found: dict[tuple[str, str], Operation] = {}
    for root in ("paths", "webhooks"):
        items = resolver.document.get(root)
        for path, raw_item in (items if isinstance(items, dict) else {}).items():
            item, _ = resolver.deref(raw_item)
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    name = re.sub(r"\{[^}]*\}", "{}", str(path)) if root == "paths" else f"webhook {path}"
                    found[(method, name)] = Operation(method, str(path), node, item, root)
    return found


def _shared(old_ref: str | None, new_ref: str | None) -> str | None:
    """Both versions reach this object through a $ref: changes inside belong to the component."""
    return new_ref if old_ref and new_ref else None


def _below(own: str | None, parent: str | None, *segments: object) -> str | None:
    if own:
        return own
    return join(parent, segments) if parent else None


class OperationDiffer:
    def __init__(self, old: Resolver, new: Resolver, emit: Emit, prints: Fingerprints) -> None:
        self._old = old
        self._new = new
        self._emit = emit
        self._schemas = SchemaDiffer(old, new, prints)

    def run(self) -> None:
        before, after = index_operations(self._old), index_operations(self._new)
        for key, op in after.items():
            if key not in before:
                self._emit("operation-added", REQUEST, "operation added", _at(op), None)
        for key, op in before.items():
            if key not in after:
                self._emit("operation-removed", REQUEST, "operation removed", _at(op), None)
        for key, op in after.items():
            if key in before:
                self._operation(before[key], op)

    def _operation(self, old: Operation, new: Operation) -> None:
        label, base = new.label, new.pointer

        def emit(rule: str, side: str, message: str, *segments: object) -> None:
            self._emit(rule, side, message, Location(label, join(base, segments)), None)

        if old.node.get("operationId") != new.node.get("operationId"):
            message = f"operationId {old.node.get('operationId')!r} -> {new.node.get('operationId')!r}"
            emit("operation-id-changed", REQUEST, message, "operationId")
        if not old.node.get("deprecated") and new.node.get("deprecated") is True:
            emit("operation-deprecated", REQUEST, "operation deprecated", "deprecated")
        for key in OPERATION_DOCS:
            if old.node.get(key) != new.node.get(key):
                emit("docs-changed", REQUEST, f"{key} changed", key)
        self._security(old, new, label, base)
        self._parameters(old, new, label)
        self._request_body(old, new, label, base)
        self._responses(old, new, label, base)

    def _security(self, old: Operation, new: Operation, label: str, base: str) -> None:
        before, old_global = effective(self._old.document, old.node)
        after, new_global = effective(self._new.document, new.node)
        for finding in diff_security(before, after):
            if old_global and new_global:
                # Document-level security: one root cause for every operation it covers.
                where = pointer("security", *finding.path)
                self._emit(finding.rule, REQUEST, finding.message, Location(label, where), where)
            else:
                where = join(base, ("security", *finding.path))
                self._emit(finding.rule, REQUEST, finding.message, Location(label, where), None)

    def _parameters(self, old: Operation, new: Operation, label: str) -> None:
        before, after = _parameters(self._old, old), _parameters(self._new, new)
        for key, (param, _, where) in after.items():
            if key in before:
                continue
            required = param.get("required") is True or key[0] == "path"
            state = "required" if required else "optional"
            message = f"{key[0]} parameter {param['name']!r} added ({state})"
            location = Location(label, where)
            self._emit(f"request-parameter-added-{state}", REQUEST, message, location, None)
        for key, (param, _, where) in before.items():
            if key not in after:
                message = f"{key[0]} parameter {param['name']!r} removed"
                self._emit("request-parameter-removed", REQUEST, message, Location(label, where), None)
        for key, (new_param, new_ref, where) in after.items():
            if key in before:
                old_param, old_ref, _ = before[key]
                anchor = _shared(old_ref, new_ref)
                self._parameter(old_param, new_param, key[0], label, where, anchor)

    def _parameter(self, old: dict, new: dict, kind: str, label: str, where: str, anchor: str | None) -> None:
        name = new["name"]

        def emit(rule: str, message: str, *segments: object) -> None:
            location = Location(label, join(where, segments))
            self._emit(rule, REQUEST, message, location, _below(None, anchor, *segments))

        was = old.get("required") is True or kind == "path"
        now = new.get("required") is True or kind == "path"
        if was != now:
            state = "required" if now else "optional"
            emit(f"request-parameter-became-{state}", f"{kind} parameter {name!r} became {state}")
        if not old.get("deprecated") and new.get("deprecated") is True:
            emit("field-deprecated", f"{kind} parameter {name!r} deprecated", "deprecated")
        for key in PARAMETER_DOCS:
            if old.get(key) != new.get(key):
                emit("docs-changed", f"{key} of {kind} parameter {name!r} changed", key)
        old_schema, old_at = _parameter_schema(old)
        new_schema, new_at = _parameter_schema(new)
        self._schema(
            old_schema,
            new_schema,
            REQUEST,
            label,
            join(where, new_at),
            _below(None, anchor, *new_at),
        )

    def _request_body(self, old: Operation, new: Operation, label: str, base: str) -> None:
        before, old_ref = self._old.deref(old.node.get("requestBody"))
        after, new_ref = self._new.deref(new.node.get("requestBody"))
        where = join(base, ("requestBody",))
        location = Location(label, where)
        if not isinstance(before, dict) and not isinstance(after, dict):
            return
        if not isinstance(before, dict):
            state = "required" if after.get("required") is True else "optional"
            self._emit(
                f"request-body-added-{state}",
                REQUEST,
                f"request body added ({state})",
                location,
                None,
            )
            return
        if not isinstance(after, dict):
            self._emit("request-body-removed", REQUEST, "request body removed", location, None)
            return
        anchor = _shared(old_ref, new_ref)
        if (before.get("required") is True) != (after.get("required") is True):
            state = "required" if after.get("required") is True else "optional"
            message = f"request body became {state}"
            self._emit(f"request-body-became-{state}", REQUEST, message, location, anchor)
        if before.get("description") != after.get("description"):
            self._emit(
                "docs-changed",
                REQUEST,
                "request body description changed",
                Location(label, join(where, ("description",))),
                _below(None, anchor, "description"),
            )
        self._content(before, after, REQUEST, label, where, anchor)

    def _responses(self, old: Operation, new: Operation, label: str, base: str) -> None:
        before = {str(code): value for code, value in (old.node.get("responses") or {}).items()}
        after = {str(code): value for code, value in (new.node.get("responses") or {}).items()}
        for code in after:
            location = Location(label, join(base, ("responses", code)))
            if code not in before:
                kind = "status" if _is_success(code) else "error-status"
                self._emit(f"response-{kind}-added", RESPONSE, f"response {code} added", location, None)
        # Without any success response left, clients lose what the operation returns.
        success_left = any(_is_success(code) for code in after)
        for code in before:
            if code not in after:
                location = Location(label, join(old.pointer, ("responses", code)))
                message = f"response {code} removed"
                if _is_success(code) and not success_left:
                    self._emit("response-success-removed", RESPONSE, message, location, None)
                else:
                    self._emit("response-status-removed", RESPONSE, message, location, None)
        for code in after:
            if code in before:
                self._response(before[code], after[code], code, label, join(base, ("responses", code)))

    def _response(self, old: Any, new: Any, code: str, label: str, where: str) -> None:
        before, old_ref = self._old.deref(old)
        after, new_ref = self._new.deref(new)
        if not isinstance(before, dict) or not isinstance(after, dict):
            return
        anchor = _shared(old_ref, new_ref)
        if before.get("description") != after.get("description"):
            location = Location(label, join(where, ("description",)))
            message = f"description of response {code} changed"
            self._emit("docs-changed", RESPONSE, message, location, _below(None, anchor, "description"))
        self._headers(before, after, label, where, anchor)
        self._content(before, after, RESPONSE, label, where, anchor)

    def _headers(self, old: dict, new: dict, label: str, where: str, anchor: str | None) -> None:
        before, after = _headers(old), _headers(new)
        for key, (name, raw) in after.items():
            at = join(where, ("headers", name))
            if key not in before:
                message = f"header {name!r} added"
                self._emit("response-header-added", RESPONSE, message, Location(label, at), None)
                continue
            old_header, old_ref = self._old.deref(before[key][1])
            new_header, new_ref = self._new.deref(raw)
            if isinstance(old_header, dict) and isinstance(new_header, dict):
                header_anchor = _below(_shared(old_ref, new_ref), anchor, "headers", name)
                self._header(old_header, new_header, name, label, at, header_anchor)
        for key, (name, _) in before.items():
            if key not in after:
                at = join(where, ("headers", name))
                message = f"header {name!r} removed"
                self._emit("response-header-removed", RESPONSE, message, Location(label, at), None)

    def _header(self, old: dict, new: dict, name: str, label: str, where: str, anchor: str | None) -> None:
        def emit(rule: str, message: str, *segments: object) -> None:
            location = Location(label, join(where, segments))
            self._emit(rule, RESPONSE, message, location, _below(None, anchor, *segments))

        if (old.get("required") is True) != (new.get("required") is True):
            state = "required" if new.get("required") is True else "optional"
            emit(f"response-header-became-{state}", f"header {name!r} became {state}")
        if not old.get("deprecated") and new.get("deprecated") is True:
            emit("field-deprecated", f"header {name!r} deprecated", "deprecated")
        for key in PARAMETER_DOCS:
            if old.get(key) != new.get(key):
                emit("docs-changed", f"{key} of header {name!r} changed", key)
        old_schema, _ = _parameter_schema(old)
        new_schema, new_at = _parameter_schema(new)
        self._schema(
            old_schema,
            new_schema,
            RESPONSE,
            label,
            join(where, new_at),
            _below(None, anchor, *new_at),
        )

    def _content(self, old: dict, new: dict, side: str, label: str, where: str, anchor: str | None) -> None:
        before, after = _media_types(old), _media_types(new)
        for key, (name, media) in after.items():
            at = join(where, ("content", name))
            if key not in before:
                message = f"media type {name} added"
                self._emit(f"{side}-media-type-added", side, message, Location(label, at), None)
                continue
            old_media = before[key][1] if isinstance(before[key][1], dict) else {}
            new_media = media if isinstance(media, dict) else {}
            media_anchor = _below(None, anchor, "content", name)
            for doc in ("example", "examples"):
                if old_media.get(doc) != new_media.get(doc):
                    message = f"{doc} of {name} changed"
                    location = Location(label, join(at, (doc,)))
                    self._emit("docs-changed", side, message, location, _below(None, media_anchor, doc))
            schema_anchor = _below(None, media_anchor, "schema")
            self._schema(
                old_media.get("schema"),
                new_media.get("schema"),
                side,
                label,
                join(at, ("schema",)),
                schema_anchor,
            )
        for key, (name, _) in before.items():
            if key not in after:
                at = join(where, ("content", name))
                message = f"media type {name} removed"
                self._emit(f"{side}-media-type-removed", side, message, Location(label, at), None)

    def _schema(self, old: Any, new: Any, side: str, label: str, where: str, anchor: str | None) -> None:
        if old is None and new is None:
            return
        found = self._schemas.diff(old if old is not None else {}, new if new is not None else {}, side)
        for finding, path in self._schemas.walk(found):
            location = Location(label, join(where, path))
            root = finding.anchor or (join(anchor, path) if anchor else None)
            self._emit(finding.rule, side, finding.message, location, root)


def _is_success(code: str) -> bool:
    return code[:1] in "23"


def _at(op: Operation) -> Location:
    return Location(op.label, op.pointer)


def _parameters(
    resolver: Resolver, op: Operation
) -> dict[tuple[str, str], tuple[dict[str, Any], str | None, str]]:
    """(in, name) -> (parameter, $ref it came through, pointer); operation level wins."""
    found: dict[tuple[str, str], tuple[dict[str, Any], str | None, str]] = {}
    levels = ((op.item_pointer, op.path_item), (op.pointer, op.node))
    for owner, node in levels:
        for index, raw in enumerate(node.get("parameters") or []):
            param, ref = resolver.deref(raw)
            if not isinstance(param, dict) or "name" not in param:
                continue
            kind = str(param.get("in", "query"))
            name = str(param["name"])
            if kind == "header":
                name = name.lower()  # HTTP header names are case-insensitive
                if name in IGNORED_HEADERS:
                    continue
            found[(kind, name)] = (param, ref, join(owner, ("parameters", index)))
    return found


def _parameter_schema(node: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """Parameters and headers carry a schema, or one media type with a schema."""
    if "schema" in node:
        return node["schema"], ("schema",)
    content = node.get("content")
    if isinstance(content, dict):
        for name, media in content.items():
            if isinstance(media, dict):
                return media.get("schema"), ("content", str(name), "schema")
    return None, ("schema",)


def _media_types(node: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    content = node.get("content")
    if not isinstance(content, dict):
        return {}
    return {str(name).lower().replace(" ", ""): (str(name), media) for name, media in content.items()}


def _headers(node: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    headers = node.get("headers")
    if not isinstance(headers, dict):
        return {}
    # Content-Type is described by `content`, and header names are case-insensitive.
    return {str(n).lower(): (str(n), h) for n, h in headers.items() if str(n).lower() != "content-type"}

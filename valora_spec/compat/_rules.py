"""The rule catalogue: every finding names one of these ids.

A rule id alone decides the default bump, so direction-sensitive rules carry their
side in the id (`request-...` / `response-...`) and a policy can override one side
without the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._model import Bump

PATCH, MINOR, MAJOR = Bump.PATCH, Bump.MINOR, Bump.MAJOR


@dataclass(frozen=True)
class Rule:
    id: str
    bump: Bump
    why: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


RULES: dict[str, Rule] = _rules(
    # Words only.
    Rule("docs-changed", PATCH, "descriptions, summaries and examples do not change behaviour"),
    Rule("field-deprecated", MINOR, "a deprecation announces a future removal"),
    # Operations and names that generated SDKs are built from.
    Rule("operation-added", MINOR, "a new operation is an addition"),
    Rule("operation-removed", MAJOR, "clients calling the operation get errors"),
    Rule("operation-deprecated", MINOR, "a deprecation announces a future removal"),
    Rule("operation-id-changed", MAJOR, "generated SDKs name their methods after operationId"),
    Rule("component-renamed", MAJOR, "generated SDKs name their types after component schemas"),
    # Security requirements (the client must present them).
    Rule("security-added", MAJOR, "anonymous clients are now rejected"),
    Rule("security-removed", MINOR, "the operation asks for less"),
    Rule("security-alternative-added", MINOR, "clients get one more way to authenticate"),
    Rule("security-alternative-removed", MAJOR, "clients using that way to authenticate are rejected"),
    Rule("security-scope-added", MAJOR, "existing tokens may lack the new scope"),
    Rule("security-scope-removed", MINOR, "the operation asks for less"),
    # Parameters.
    Rule("request-parameter-added-optional", MINOR, "clients may ignore an optional parameter"),
    Rule("request-parameter-added-required", MAJOR, "clients that do not send it are rejected"),
    Rule("request-parameter-removed", MAJOR, "clients sending it lose what it did, or are rejected"),
    Rule("request-parameter-became-required", MAJOR, "clients that omit it are rejected"),
    Rule("request-parameter-became-optional", MINOR, "the server asks for less"),
    # Request bodies and media types.
    Rule("request-body-added-optional", MINOR, "clients may go on sending no body"),
    Rule("request-body-added-required", MAJOR, "clients that send no body are rejected"),
    Rule("request-body-removed", MAJOR, "clients sending a body lose what it did, or are rejected"),
    Rule("request-body-became-required", MAJOR, "clients that send no body are rejected"),
    Rule("request-body-became-optional", MINOR, "the server asks for less"),
    Rule("request-media-type-added", MINOR, "clients get one more way to send the body"),
    Rule("request-media-type-removed", MAJOR, "clients sending that media type are rejected"),
    # Responses: statuses, media types, headers.
    Rule("response-status-added", MAJOR, "clients may get a success status they do not handle"),
    Rule("response-error-status-added", MINOR, "clients must already handle unexpected errors"),
    Rule("response-status-removed", MINOR, "clients get fewer kinds of response"),
    Rule("response-media-type-added", MINOR, "the new media type is only sent when asked for"),
    Rule("response-media-type-removed", MAJOR, "clients asking for that media type get errors"),
    Rule("response-header-added", MINOR, "clients ignore headers they do not know"),
    Rule("response-header-removed", MAJOR, "clients reading the header no longer get it"),
    Rule("response-header-became-optional", MAJOR, "clients reading the header may not get it"),
    Rule("response-header-became-required", MINOR, "the header is now always sent"),
    # Schema properties.
    Rule("request-property-added-optional", MINOR, "clients may ignore an optional property"),
    Rule("request-property-added-required", MAJOR, "clients that do not send it are rejected"),
    Rule("request-property-removed", MAJOR, "clients sending it lose what it did, or are rejected"),
    Rule("request-property-became-required", MAJOR, "clients that omit it are rejected"),
    Rule("request-property-became-optional", MINOR, "the server asks for less"),
    Rule("response-property-added", MINOR, "clients must ignore unknown fields"),
    Rule("response-property-removed", MAJOR, "clients reading the property no longer get it"),
    Rule("response-property-became-optional", MAJOR, "clients reading the property may not get it"),
    Rule("response-property-became-required", MINOR, "the property is now always sent"),
    Rule(
        "response-additional-properties-allowed",
        MINOR,
        "clients must ignore unknown fields",
    ),
    # Types and nullability.
    Rule("request-type-widened", MINOR, "the server accepts more"),
    Rule("request-type-narrowed", MAJOR, "values clients send today may be rejected"),
    Rule("request-type-changed", MAJOR, "values clients send today are rejected"),
    Rule("response-type-widened", MAJOR, "clients may get values of a type they do not expect"),
    Rule("response-type-narrowed", MINOR, "clients get fewer kinds of value"),
    Rule("response-type-changed", MAJOR, "clients get values of a type they do not expect"),
    Rule("request-nullable-added", MINOR, "the server accepts null as well"),
    Rule("request-nullable-removed", MAJOR, "clients sending null are rejected"),
    Rule("response-nullable-added", MAJOR, "clients may get a null they do not expect"),
    Rule("response-nullable-removed", MINOR, "the value is now never null"),
    # Constraints (min*/max*/exclusive*/multipleOf/uniqueItems/pattern/format/enum presence).
    Rule("request-constraint-tightened", MAJOR, "values clients send today may be rejected"),
    Rule("request-constraint-loosened", MINOR, "the server accepts more"),
    Rule("request-constraint-changed", MAJOR, "values clients send today may be rejected"),
    Rule("response-constraint-tightened", MINOR, "clients get a subset of what they got before"),
    Rule("response-constraint-loosened", MAJOR, "clients may get values they do not expect"),
    Rule("response-constraint-changed", MAJOR, "clients may get values they do not expect"),
    # Enums.
    Rule("request-enum-value-added", MINOR, "the server accepts one more value"),
    Rule("request-enum-value-removed", MAJOR, "clients sending that value are rejected"),
    Rule("response-enum-value-added", MAJOR, "clients may get a value outside the closed enum"),
    Rule(
        "response-extensible-enum-value-added",
        MINOR,
        "x-extensible-enum tells clients to expect new values",
    ),
    Rule("response-enum-value-removed", MINOR, "clients get fewer values"),
    Rule("response-enum-made-extensible", MAJOR, "clients may get values outside the old enum"),
    # oneOf / anyOf.
    Rule("request-union-branch-added", MINOR, "the server accepts one more shape"),
    Rule("request-union-branch-removed", MAJOR, "clients sending that shape are rejected"),
    Rule("response-union-branch-added", MAJOR, "clients may get a shape they do not handle"),
    Rule("response-union-branch-removed", MINOR, "clients get fewer shapes"),
    # Defaults.
    Rule("request-default-added", MINOR, "documents what the server assumes when it is omitted"),
    Rule("request-default-changed", MAJOR, "clients omitting the value get different behaviour"),
    Rule("response-default-added", MINOR, "documents what clients may assume when it is absent"),
    Rule(
        "response-default-changed",
        PATCH,
        "in a response, default is an annotation: the server sends the value it means",
    ),
    # SDK deserialisation.
    Rule("discriminator-added", MINOR, "SDKs pick the type to deserialise into differently"),
    Rule("discriminator-removed", MINOR, "SDKs pick the type to deserialise into differently"),
    Rule("discriminator-changed", MINOR, "SDKs pick the type to deserialise into differently"),
    # Responses: the operation's result.
    Rule("response-success-removed", MAJOR, "no success response is left: clients lose the result"),
    # JSON Schema 2020-12 keywords. Added, a keyword constrains more: a request rejects
    # what clients send; a response sends a subset of what it sent. Removed, the reverse.
    Rule("request-contains-added", MAJOR, "contains: values clients send today may be rejected"),
    Rule("request-contains-removed", MINOR, "contains: the server accepts more"),
    Rule("response-contains-added", MINOR, "contains: clients get a subset of what they got before"),
    Rule("response-contains-removed", MAJOR, "contains: clients may get values they do not expect"),
    Rule("request-property-names-added", MAJOR, "propertyNames: values clients send today may be rejected"),
    Rule("request-property-names-removed", MINOR, "propertyNames: the server accepts more"),
    Rule(
        "response-property-names-added",
        MINOR,
        "propertyNames: clients get a subset of what they got before",
    ),
    Rule(
        "response-property-names-removed",
        MAJOR,
        "propertyNames: clients may get values they do not expect",
    ),
    Rule(
        "request-pattern-property-added",
        MAJOR,
        "patternProperties entry: values clients send today may be rejected",
    ),
    Rule("request-pattern-property-removed", MINOR, "patternProperties entry: the server accepts more"),
    Rule(
        "response-pattern-property-added",
        MINOR,
        "patternProperties entry: clients get a subset of what they got before",
    ),
    Rule(
        "response-pattern-property-removed",
        MAJOR,
        "patternProperties entry: clients may get values they do not expect",
    ),
    Rule("request-prefix-item-added", MAJOR, "prefixItems entry: values clients send today may be rejected"),
    Rule("request-prefix-item-removed", MINOR, "prefixItems entry: the server accepts more"),
    Rule(
        "response-prefix-item-added",
        MINOR,
        "prefixItems entry: clients get a subset of what they got before",
    ),
    Rule(
        "response-prefix-item-removed",
        MAJOR,
        "prefixItems entry: clients may get values they do not expect",
    ),
    Rule(
        "request-dependent-required-added",
        MAJOR,
        "dependentRequired name: values clients send today may be rejected",
    ),
    Rule("request-dependent-required-removed", MINOR, "dependentRequired name: the server accepts more"),
    Rule(
        "response-dependent-required-added",
        MINOR,
        "dependentRequired name: clients get a subset of what they got before",
    ),
    Rule(
        "response-dependent-required-removed",
        MAJOR,
        "dependentRequired name: clients may get values they do not expect",
    ),
    Rule(
        "request-dependent-schema-added",
        MAJOR,
        "dependentSchemas entry: values clients send today may be rejected",
    ),
    Rule("request-dependent-schema-removed", MINOR, "dependentSchemas entry: the server accepts more"),
    Rule(
        "response-dependent-schema-added",
        MINOR,
        "dependentSchemas entry: clients get a subset of what they got before",
    ),
    Rule(
        "response-dependent-schema-removed",
        MAJOR,
        "dependentSchemas entry: clients may get values they do not expect",
    ),
    Rule(
        "request-conditional-added",
        MAJOR,
        "if/then/else (or a branch): values clients send today may be rejected",
    ),
    Rule("request-conditional-removed", MINOR, "if/then/else (or a branch): the server accepts more"),
    Rule(
        "response-conditional-added",
        MINOR,
        "if/then/else (or a branch): clients get a subset of what they got before",
    ),
    Rule(
        "response-conditional-removed",
        MAJOR,
        "if/then/else (or a branch): clients may get values they do not expect",
    ),
    Rule(
        "request-content-constraint-added",
        MAJOR,
        "contentSchema/Encoding/MediaType: values clients send today may be rejected",
    ),
    Rule(
        "request-content-constraint-removed",
        MINOR,
        "contentSchema/Encoding/MediaType: the server accepts more",
    ),
    Rule(
        "response-content-constraint-added",
        MINOR,
        "contentSchema/Encoding/MediaType: clients get a subset of what they got before",
    ),
    Rule(
        "response-content-constraint-removed",
        MAJOR,
        "contentSchema/Encoding/MediaType: clients may get values they do not expect",
    ),
    Rule(
        "request-unevaluated-items-restricted",
        MAJOR,
        "unevaluatedItems: values clients send today may be rejected",
    ),
    Rule("request-unevaluated-items-allowed", MINOR, "unevaluatedItems: the server accepts more"),
    Rule(
        "response-unevaluated-items-restricted",
        MINOR,
        "unevaluatedItems: clients get a subset of what they got before",
    ),
    Rule(
        "response-unevaluated-items-allowed",
        MAJOR,
        "unevaluatedItems: clients may get values they do not expect",
    ),
    Rule("request-not-added", MAJOR, "not: values clients send today may be rejected"),
    Rule("request-not-removed", MINOR, "not: the server accepts more"),
    Rule("response-not-added", MINOR, "not: clients get a subset of what they got before"),
    Rule("response-not-removed", MAJOR, "not: clients may get values they do not expect"),
    # Under `not`, the direction flips: a `not` that matches more rejects more.
    Rule("request-not-widened", MAJOR, "what not matches: values clients send today may be rejected"),
    Rule("request-not-narrowed", MINOR, "what not matches: the server accepts more"),
    Rule("response-not-widened", MINOR, "what not matches: clients get a subset of what they got before"),
    Rule("response-not-narrowed", MAJOR, "what not matches: clients may get values they do not expect"),
    Rule("request-unevaluated-properties-restricted", MAJOR, "clients sending other properties are rejected"),
    Rule("request-unevaluated-properties-allowed", MINOR, "the server accepts more"),
    Rule("response-unevaluated-properties-restricted", MINOR, "clients get a subset of what they got"),
    Rule("response-unevaluated-properties-allowed", MINOR, "clients must ignore unknown fields"),
    # A changed condition, content encoding or `not` may accept more and less at once.
    Rule("request-conditional-changed", MAJOR, "values clients send today may be rejected"),
    Rule("response-conditional-changed", MAJOR, "clients may get values they do not expect"),
    Rule("request-content-constraint-changed", MAJOR, "values clients send today may be rejected"),
    Rule("response-content-constraint-changed", MAJOR, "clients may get values they do not expect"),
    Rule("request-not-changed", MAJOR, "values clients send today may be rejected"),
    Rule("response-not-changed", MAJOR, "clients may get values they do not expect"),
)


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]

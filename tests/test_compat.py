"""The compatibility checker: corpus verdicts, grouping, $ref moves, policy and CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from valora_spec.compat import (
    DEFAULT_POLICY_PATH,
    RULES,
    Bump,
    Policy,
    PolicyError,
    compare,
    load_policy,
)
from valora_spec.compat._cli import main
from valora_spec.compat._load import repo_root
from valora_spec.compat._releases import released_versions

CORPUS = Path(__file__).parent / "compat_corpus"
PAIRS = sorted(path for path in CORPUS.iterdir() if path.is_dir())


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _run(pair: Path):
    return compare(_load(pair / "old.yaml"), _load(pair / "new.yaml"))


# --- the corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS, ids=[pair.name for pair in PAIRS])
def test_corpus_pair(pair):
    expected = _load(pair / "expected.yaml")
    result = _run(pair)
    assert result.required_bump.label == expected["bump"]
    assert sorted(result.rules) == sorted(expected["rules"])


def test_corpus_is_large_enough_and_covers_every_rule():
    assert len(PAIRS) >= 60
    expected_rules = set()
    for pair in PAIRS:
        expected_rules.update(_load(pair / "expected.yaml")["rules"])
    assert expected_rules == set(RULES)


def test_corpus_covers_side_neutral_rules_on_both_sides():
    seen: dict[str, set[str]] = {}
    for pair in PAIRS:
        for change in _run(pair).changes:
            seen.setdefault(change.rule, set()).add(change.side)
    for rule_id in ("docs-changed", "field-deprecated"):
        assert seen[rule_id] == {"request", "response"}


# --- grouping by root cause -------------------------------------------------------------


def _spec_with_shared_component(operations: int, status_values: list[str]) -> dict:
    paths = {}
    for i in range(operations):
        ref = {"$ref": "#/components/schemas/Invoice"}
        paths[f"/accounts/{i}/invoices"] = {
            "get": {
                "operationId": f"listInvoices{i}",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}}},
            }
        }
    invoice = {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": status_values}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Invoice": invoice}},
    }


def test_one_changed_component_is_one_change_listing_every_place():
    old = _spec_with_shared_component(30, ["open", "paid"])
    new = _spec_with_shared_component(30, ["open", "paid", "void"])
    result = compare(old, new)
    assert len(result.changes) == 1
    change = result.changes[0]
    assert change.rule == "response-enum-value-added"
    assert change.pointer == "#/components/schemas/Invoice/properties/status/enum"
    assert len(change.locations) == 30
    assert len({location.operation for location in change.locations}) == 30


def test_component_used_in_requests_and_responses_gives_one_change_per_side():
    old = _spec_with_shared_component(3, ["open"])
    new = _spec_with_shared_component(3, ["open", "paid"])
    for document in (old, new):
        ref = {"$ref": "#/components/schemas/Invoice"}
        body = {"content": {"application/json": {"schema": ref}}}
        document["paths"]["/invoices"] = {
            "post": {"requestBody": body, "responses": {"204": {"description": "ok"}}}
        }
    result = compare(old, new)
    assert {(c.rule, c.side, len(c.locations)) for c in result.changes} == {
        ("response-enum-value-added", "response", 3),
        ("request-enum-value-added", "request", 1),
    }


# --- $ref moves are not changes ---------------------------------------------------------


def _inline_refs(node, components, stack=()):
    """Replace every (non-recursive) schema $ref with a copy of its target."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name in stack:
                return node
            return _inline_refs(copy.deepcopy(components[name]), components, (*stack, name))
        return {key: _inline_refs(value, components, stack) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(value, components, stack) for value in node]
    return node


@pytest.mark.parametrize("pair", [p for p in PAIRS if "ref" in p.name or "component" in p.name])
def test_inlining_every_ref_is_not_a_change(pair):
    for name in ("old.yaml", "new.yaml"):
        document = _load(pair / name)
        components = (document.get("components") or {}).get("schemas") or {}
        inlined = dict(document, paths=_inline_refs(document["paths"], components))
        for old, new in ((document, inlined), (inlined, document)):
            result = compare(old, new)
            assert result.changes == (), [c.rule for c in result.changes]


def test_ref_move_and_a_real_change_reports_only_the_change():
    inline = {"type": "object", "properties": {"id": {"type": "string"}}}
    moved = copy.deepcopy(inline)
    moved["properties"]["memo"] = {"type": "string"}
    old = _spec_with_shared_component(1, ["open"])
    new = copy.deepcopy(old)
    old["paths"]["/accounts/0/invoices"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] = inline
    new["components"]["schemas"]["Invoice"] = moved
    assert {c.rule for c in compare(old, new).changes} == {"response-property-added"}


def test_recursive_schemas_terminate():
    def tree(extra: dict) -> dict:
        node = {
            "type": "object",
            "properties": {
                "parent": {"$ref": "#/components/schemas/Edge"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                **extra,
            },
        }
        edge = {"type": "object", "properties": {"to": {"$ref": "#/components/schemas/Node"}}}
        spec = _spec_with_shared_component(2, ["open"])
        spec["components"]["schemas"].update({"Node": node, "Edge": edge})
        spec["components"]["schemas"]["Invoice"]["properties"]["root"] = {"$ref": "#/components/schemas/Node"}
        return spec

    old, new = tree({}), tree({"label": {"type": "string"}})
    result = compare(old, new)
    assert [c.rule for c in result.changes] == ["response-property-added"]
    assert result.changes[0].pointer == "#/components/schemas/Node/properties/label"
    assert compare(new, old).required_bump is Bump.MAJOR


# --- policy -----------------------------------------------------------------------------


def test_policy_override_changes_the_bump():
    pair = CORPUS / next(p.name for p in PAIRS if p.name.endswith("response-enum-value-added"))
    old, new = _load(pair / "old.yaml"), _load(pair / "new.yaml")
    assert compare(old, new).required_bump is Bump.MAJOR
    lenient = Policy({"response-enum-value-added": Bump.MINOR})
    result = compare(old, new, lenient)
    assert result.required_bump is Bump.MINOR
    assert result.changes[0].bump is Bump.MINOR


def test_policy_file_is_loaded_and_validated(tmp_path):
    good = tmp_path / "policy.yaml"
    good.write_text("version: 1\noverrides:\n  response-enum-value-added: minor\n")
    assert load_policy(good).bump_for("response-enum-value-added") is Bump.MINOR
    for text in (
        "version: 2\noverrides: {}\n",
        "version: 1\noverrides:\n  no-such-rule: minor\n",
        "version: 1\noverrides:\n  docs-changed: huge\n",
        "version: 1\nextra: true\n",
        "version: [1\n",
    ):
        good.write_text(text)
        with pytest.raises(PolicyError):
            load_policy(good)


def test_default_policy_file_matches_the_rule_catalogue():
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert dict(policy.overrides) == {rule_id: rule.bump for rule_id, rule in RULES.items()}


# --- CLI --------------------------------------------------------------------------------


def test_cli_json_output(capsys):
    pair = next(p for p in PAIRS if p.name.endswith("mixed-minor-and-major"))
    code = main(["compat", str(pair / "old.yaml"), str(pair / "new.yaml"), "--format", "json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["required_bump"] == "major"
    change = payload["changes"][0]
    assert set(change) >= {"rule", "side", "bump", "pointer", "message", "why", "locations"}
    assert change["locations"][0]["operation"] == "GET /invoices"


def test_cli_text_output_names_rule_side_and_place(capsys, tmp_path):
    pair = next(p for p in PAIRS if p.name.endswith("request-property-added-required"))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\noverrides:\n  request-property-added-required: minor\n")
    code = main(["compat", str(pair / "old.yaml"), str(pair / "new.yaml"), "--policy", str(policy)])
    out = capsys.readouterr().out
    assert code == 0
    assert "required bump: minor" in out
    assert "request-property-added-required  [request]" in out
    assert "POST /invoices" in out


@pytest.mark.parametrize(
    ("old", "problem"),
    [
        ("no/such/file.yaml", "cannot read"),
        ("9.9.9", "unknown version"),
        ("openapi: [3.1\n", "not valid YAML"),
        ("- just\n- a list\n", "not an OpenAPI document"),
        ("openapi: 3.1.0\npaths: [1]\n", "not an OpenAPI document"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, old, problem):
    if "\n" in old:
        bad = tmp_path / "bad.yaml"
        bad.write_text(old)
        old = str(bad)
    code = main(["compat", old, str(PAIRS[0] / "old.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert problem in err
    assert len(err.strip().splitlines()) == 1


def test_cli_bad_path_never_prints_a_traceback():
    completed = subprocess.run(
        [sys.executable, "-m", "valora_spec.compat", "compat", "missing.yaml", "1.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("valora-spec compat: error:")


# --- check-releases ---------------------------------------------------------------------


def _release(spec_dir: Path, version: str, document: dict) -> None:
    folder = spec_dir / version
    folder.mkdir(parents=True)
    (folder / "openapi.yaml").write_text(yaml.safe_dump(document))


def _corpus_docs(suffix: str) -> tuple[dict, dict]:
    pair = next(p for p in PAIRS if p.name.endswith(suffix))
    return _load(pair / "old.yaml"), _load(pair / "new.yaml")


def test_check_releases_fails_an_understated_version(tmp_path, capsys):
    base, with_operation = _corpus_docs("-operation-added")
    _release(tmp_path, "1.0.0", base)
    _release(tmp_path, "1.0.1", with_operation)  # adds an operation: needs a minor
    _release(tmp_path, "1.1.0", with_operation)
    (tmp_path / "notes").mkdir()  # not a release: ignored
    assert main(["check-releases", "--spec-dir", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("FAIL 1.0.0 -> 1.0.1: declared patch, changes demand minor")
    assert "operation-added" in lines[0]
    assert lines[1].startswith("ok   1.0.1 -> 1.1.0")


def test_check_releases_sorts_by_semver_and_catches_breaking_minor(tmp_path, capsys):
    base, _ = _corpus_docs("-operation-added")
    broken, _ = _corpus_docs("-operation-removed")
    _release(tmp_path, "1.2.0", base)
    _release(tmp_path, "1.10.0", base)
    _release(tmp_path, "1.9.0", broken)  # 1.2.0 -> 1.9.0 drops nothing; 1.9.0 -> 1.10.0 breaks
    assert main(["check-releases", "--spec-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ok   1.2.0 -> 1.9.0" in out
    assert "FAIL 1.9.0 -> 1.10.0: declared minor, changes demand major" in out


def test_check_releases_passes_honest_versions(tmp_path, capsys):
    base, with_operation = _corpus_docs("-operation-added")
    _release(tmp_path, "1.0.0", base)
    _release(tmp_path, "1.1.0", with_operation)
    _release(tmp_path, "2.0.0", base)
    assert main(["check-releases", "--spec-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("ok  ") == 2


def test_check_releases_missing_dir_exits_2(tmp_path, capsys):
    assert main(["check-releases", "--spec-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_releases_on_the_real_spec(capsys):
    spec_dir = repo_root() / "spec"
    releases = released_versions(spec_dir) if spec_dir.is_dir() else []
    if len(releases) < 2:
        pytest.skip(f"fewer than two released versions in {spec_dir} (found {len(releases)})")
    code = main(["check-releases"])
    assert code == 0, capsys.readouterr().out


def test_cli_compat_imports_none_of_the_heavy_tools():
    pair = next(p for p in PAIRS if p.name.endswith("mixed-minor-and-major"))
    heavy = ("schemathesis", "hypothesis", "openapi_core", "openapi_spec_validator", "jinja2", "jsonschema")
    script = (
        "import contextlib, io, sys\n"
        "from valora_spec.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['compat', {str(pair / 'old.yaml')!r}, {str(pair / 'new.yaml')!r}])\n"
        f"print(code, sorted({{m.split('.')[0] for m in sys.modules}} & {set(heavy)!r}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=repo_root()
    )
    assert completed.stdout.split(None, 1) == ["0", "[]\n"], completed.stderr


# --- YAML -------------------------------------------------------------------------------

TRICKY_YAML = """
openapi: 3.1.0
base: &base {type: object, minimum: 1.5, flag: yes, when: 2024-01-02, none: ~, big: 0x1F}
merged:
  <<: *base
  extra: [1, "2", null, true, {k: v}]
again: *base
tagged: !!str 123
binary: !!binary aGVsbG8=
set: !!set {a, b}
1: numeric key
"""


@pytest.mark.parametrize("text", [TRICKY_YAML, "", "just a string\n", "- a\n- {b: 1}\n"])
def test_fast_yaml_parse_equals_pyyaml(text):
    from valora_spec.compat._yaml import parse

    expected = yaml.load(text, Loader=yaml.SafeLoader)
    found = parse(text)
    assert found == expected
    if isinstance(expected, dict) and "again" in expected:
        assert found["again"] is found["base"]  # an alias is the same object, as in PyYAML


@pytest.mark.parametrize("text", ["a: [1\n", "? [1, 2]\n: unhashable\n", "a: !!python/name:os.system x\n"])
def test_fast_yaml_parse_rejects_what_pyyaml_rejects(text):
    from valora_spec.compat._yaml import parse

    with pytest.raises(yaml.YAMLError):
        yaml.load(text, Loader=yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError):
        parse(text)


# --- scale: each pair of $refs is compared once -------------------------------------------


def _expandable_spec(levels: int, leaf_enum: list[str]) -> dict:
    """Stripe's pattern: every field is `anyOf: [string id, $ref]`, each level refers to the next
    twice and back to the first: 2**levels paths, and a cycle through all of them."""
    schemas = {}
    for i in range(levels):
        nxt = {"anyOf": [{"type": "string"}, {"$ref": f"#/components/schemas/L{i + 1}"}]}
        back = {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/L0"}]}
        properties = {"a": nxt, "b": copy.deepcopy(nxt), "up": back}
        schemas[f"L{i}"] = {"type": "object", "properties": properties}
    status = {"type": "string", "enum": leaf_enum}
    schemas[f"L{levels}"] = {"type": "object", "properties": {"status": status}}
    root = {"$ref": "#/components/schemas/L0"}
    ok = {"description": "ok", "content": {"application/json": {"schema": root}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"get": {"operationId": "listThings", "responses": {"200": ok}}}},
        "components": {"schemas": schemas},
    }


@pytest.mark.timeout(60)
def test_exponentially_many_paths_through_shared_refs_are_compared_once():
    old, new = _expandable_spec(40, ["open"]), _expandable_spec(40, ["open", "paid"])
    result = compare(old, new)
    assert [(c.rule, c.pointer) for c in result.changes] == [
        ("response-enum-value-added", "#/components/schemas/L40/properties/status/enum")
    ]
    assert [location.operation for location in result.changes[0].locations] == ["GET /things"]
    assert compare(old, copy.deepcopy(old)).changes == ()


def test_fingerprints_see_the_same_recursive_shape_under_other_names():
    from valora_spec.compat._fingerprint import Fingerprints
    from valora_spec.compat._resolve import Resolver

    def doc(names: tuple[str, str], leaf: str) -> dict:
        a, b = names
        return {"components": {"schemas": {
            a: {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/{b}"}}},
            b: {
                "type": "object",
                "properties": {"back": {"$ref": f"#/components/schemas/{a}"}, "x": {"type": leaf}},
            },
        }}}

    old, same, other = Resolver(doc(("A", "B"), "string")), Resolver(doc(("P", "Q"), "string")), None
    prints = Fingerprints(old, same)
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    assert prints.of(old, ref("A")) == prints.of(same, ref("P"))
    assert prints.of(old, ref("B")) == prints.of(same, ref("Q"))
    assert prints.of(old, ref("A")) != prints.of(same, ref("Q"))
    other = Resolver(doc(("P", "Q"), "integer"))
    prints = Fingerprints(old, other)
    assert prints.of(old, ref("A")) != prints.of(other, ref("P"))  # differs two refs down a cycle


def test_cli_output_into_a_pipe_closed_early_is_not_a_traceback(tmp_path):
    # far more than a pipe's buffer (64 KiB), so the writer meets the closed pipe
    ok = {"responses": {"200": {"description": "ok"}}}
    paths = {f"/things{i}": {"get": {"operationId": f"getThing{i}", **ok}} for i in range(2000)}
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    for document, version, its_paths in ((old, "1", paths), (new, "2", {})):
        info = {"title": "t", "version": version}
        document.write_text(yaml.safe_dump({"openapi": "3.1.0", "info": info, "paths": its_paths}))
    reader = subprocess.Popen([sys.executable, "-m", "valora_spec.cli", "compat", str(old), str(new),
                               "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.read(100)
    reader.stdout.close()
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 1
    assert stderr == ""

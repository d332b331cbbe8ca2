"""Spectral (`spectral:oas`) and Redocly (`recommended`) report no error on any version.

Warnings are held to zero too: a warning the project accepts is switched off in `.spectral.yaml`
or `redocly.yaml` with a comment saying why, so a new one shows up here.
"""

from __future__ import annotations

import pytest
import yaml

from valora_spec import _spec, cli

from .conftest import VERSIONS

ROOT = _spec.repo_root()
pytestmark = pytest.mark.skipif(
    not (ROOT / "node_modules" / ".bin").is_dir(),
    reason="node_modules is absent: run `npm ci` (./scripts/setup does; CI always does)")


def _report(result):
    return "\n".join(result.messages)


@pytest.mark.parametrize("version", VERSIONS)
def test_spectral_is_clean(version):
    result = cli.run_spectral(ROOT, _spec.spec_path(version))
    assert (result.errors, result.warnings) == (0, 0), _report(result)


@pytest.mark.parametrize("version", VERSIONS)
def test_redocly_is_clean(version):
    result = cli.run_redocly(ROOT, _spec.spec_path(version))
    assert (result.errors, result.warnings) == (0, 0), _report(result)


def test_the_linters_find_errors(tmp_path):
    """The runners count what the linters report: a broken document is not clean."""
    doc = _spec.load_spec(VERSIONS[-1])
    del doc["paths"]["/meters"]["get"]["operationId"]
    doc["paths"]["/meters"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/NoSuchSchema"}
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    spectral, redocly = cli.run_spectral(ROOT, broken), cli.run_redocly(ROOT, broken)
    assert spectral.errors >= 1 and "operation-operationId" in _report(spectral)
    assert redocly.errors >= 1 and "no-unresolved-refs" in _report(redocly)


def test_redocly_never_phones_home():
    config = yaml.safe_load((ROOT / "redocly.yaml").read_text(encoding="utf-8"))
    assert config["telemetry"] == "off"
    assert cli.REDOCLY_ENV["REDOCLY_TELEMETRY"] == "off"

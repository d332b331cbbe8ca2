"""Discovery: what the target declares about itself."""

from __future__ import annotations

import pytest

from valora_spec import _versions
from valora_spec.conformance._run import CheckRun


@pytest.mark.requirements("VAL-META-001", "VAL-COMPAT-002")
def test_meta_declares_version_and_range(run: CheckRun, check) -> None:
    reply = run.api.get("/v1/meta")
    check.require("VAL-COMPAT-002", reply.status == 200,
                  f"GET /v1/meta answered {reply.status}", operation="GET /v1/meta",
                  expected=200, observed=reply.status, exchange=reply.exchange)
    meta = reply.json()
    version = meta.get("spec_version") if isinstance(meta, dict) else None
    rng = meta.get("compatible_range") if isinstance(meta, dict) else None
    check.require("VAL-META-001", _versions.is_version(version),
                  "spec_version is missing or not X.Y.Z", operation="GET /v1/meta",
                  expected="X.Y.Z", observed=version, exchange=reply.exchange)
    ok_range = (isinstance(rng, dict) and all(_versions.is_version(rng.get(k))
                                              for k in ("min", "max")))
    check.require("VAL-META-001", ok_range, "compatible_range is not {min, max} versions",
                  operation="GET /v1/meta", expected="{min: X.Y.Z, max: X.Y.Z}", observed=rng,
                  exchange=reply.exchange)
    inside = _versions.parse(rng["min"]) <= _versions.parse(version) <= _versions.parse(rng["max"])
    check.that("VAL-META-001", inside, f"declared {version} lies outside its range "
               f"{rng['min']} – {rng['max']}", operation="GET /v1/meta",
               expected="min <= spec_version <= max", observed=f"{version} in {rng}",
               exchange=reply.exchange)
    major, target_major = _versions.major(version), _versions.major(run.target_version)
    check.that("VAL-META-001", major == target_major,
               f"declares major {major} at /v1", operation="GET /v1/meta",
               expected=f"{target_major}.x", observed=version,
               exchange=reply.exchange)
    check.that("VAL-COMPAT-002", True, "", operation="GET /v1/meta")

"""Discovery: what the target declares about itself."""

from __future__ import annotations

import re

import pytest

from valora_spec.conformance._catalogue import version_key
from valora_spec.conformance._run import CheckRun

SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


@pytest.mark.requirements("VAL-META-001", "VAL-COMPAT-002")
def test_meta_declares_version_and_range(run: CheckRun, check) -> None:
    reply = run.api.get("/v1/meta")
    check.require("VAL-COMPAT-002", reply.status == 200,
                  f"GET /v1/meta answered {reply.status}", operation="GET /v1/meta",
                  expected=200, observed=reply.status, exchange=reply.exchange)
    meta = reply.json()
    version = meta.get("spec_version") if isinstance(meta, dict) else None
    rng = meta.get("compatible_range") if isinstance(meta, dict) else None
    check.require("VAL-META-001", isinstance(version, str) and bool(SEMVER.match(version)),
                  "spec_version is missing or not X.Y.Z", operation="GET /v1/meta",
                  expected="X.Y.Z", observed=version, exchange=reply.exchange)
    ok_range = (isinstance(rng, dict) and all(isinstance(rng.get(k), str)
                                              and SEMVER.match(rng[k]) for k in ("min", "max")))
    check.require("VAL-META-001", ok_range, "compatible_range is not {min, max} versions",
                  operation="GET /v1/meta", expected="{min: X.Y.Z, max: X.Y.Z}", observed=rng,
                  exchange=reply.exchange)
    inside = version_key(rng["min"]) <= version_key(version) <= version_key(rng["max"])
    check.that("VAL-META-001", inside, f"declared {version} lies outside its range "
               f"{rng['min']} – {rng['max']}", operation="GET /v1/meta",
               expected="min <= spec_version <= max", observed=f"{version} in {rng}",
               exchange=reply.exchange)
    check.that("VAL-META-001", version.split(".")[0] == run.target_version.split(".")[0],
               f"declares major {version.split('.')[0]} at /v1", operation="GET /v1/meta",
               expected=f"{run.target_version.split('.')[0]}.x", observed=version,
               exchange=reply.exchange)
    check.that("VAL-COMPAT-002", True, "", operation="GET /v1/meta")

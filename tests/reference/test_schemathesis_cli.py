"""schemathesis' own CLI (`st run`) against the reference server, once per spec version.

All built-in checks (the CLI default), positive and negative data, every phase including the
stateful one over the spec's links, a fixed seed and no example database. The three runs go
in parallel, each against its own server process; the budget keeps the whole under ~40 s on two
cores. tests/reference/schemathesis.toml lists the contract-prescribed rejections it allows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
BIN = Path(sys.executable).parent
VERSIONS = ("1.0.4", "1.1.4", "1.2.4")  # the newest patch of each minor line
KEY = "st-admin-key"
BUDGET = ["--max-examples", "5", "--seed", "1", "--generation-database", "none", "--workers", "1"]


# Formats the spec asserts (VAL-TIME-001); `email` is an annotation, validated by its pattern
# alone, so `st` must not expect a value breaking only the format to be rejected.
ASSERTED_FORMATS = {"date-time", "uri-reference"}


def _without_annotation_formats(node: object) -> object:
    if isinstance(node, dict):
        return {k: _without_annotation_formats(v) for k, v in node.items()
                if not (k == "format" and isinstance(v, str) and v not in ASSERTED_FORMATS)}
    if isinstance(node, list):
        return [_without_annotation_formats(v) for v in node]
    return node


def _spec_for_st(version: str, workdir: Path) -> Path:
    """The version's document as `st` should read it: only asserted formats kept."""
    document = yaml.safe_load((ROOT / "spec" / version / "openapi.yaml").read_text(encoding="utf-8"))
    path = workdir / f"openapi-{version}.yaml"
    path.write_text(yaml.safe_dump(_without_annotation_formats(document), allow_unicode=True),
                    encoding="utf-8")
    return path


def _operation_count(version: str) -> int:
    document = yaml.safe_load((ROOT / "spec" / version / "openapi.yaml").read_text())
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(len(methods & set(item)) for item in document["paths"].values())


@pytest.fixture(scope="module")
def st_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str]]]:
    """version -> (exit status, output) of `st run` against a server of that version."""
    workdir = tmp_path_factory.mktemp("st")
    servers = {
        version: subprocess.Popen(
            [str(BIN / "valora-reference"), "--spec-version", version,
             "--api-key", f"org_a:admin:{KEY}", "--api-key", "org_b:admin:st-other-key"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        for version in VERSIONS
    }
    try:
        runs = {}
        for version, server in servers.items():
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            # A wrong key would make every check pass (401 is documented everywhere): prove it works.
            meta = httpx.get(f"{url}/v1/meta", headers={"Authorization": f"Bearer {KEY}"})
            assert meta.status_code == 200 and meta.json()["spec_version"] == version
            runs[version] = subprocess.Popen(
                [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run",
                 str(_spec_for_st(version, workdir)), "--url", f"{url}/v1",
                 "-H", f"Authorization: Bearer {KEY}", "--mode", "all",
                 "--phases", "examples,coverage,fuzzing,stateful", "--no-color", *BUDGET],
                cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
        yield {version: (run.wait(timeout=300), run.communicate()[0])
               for version, run in runs.items()}
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("version", VERSIONS)
def test_st_run_finds_no_failure(st_runs: dict[str, tuple[int, str]], version: str) -> None:
    status, output = st_runs[version]
    assert status == 0, output[-6000:]
    assert f"Tested: {_operation_count(version)}" in output
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅\s+{phase}", output), f"{phase} did not pass:\n{output[-3000:]}"
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and int(generated.group(1)) > 1000 and generated.group(1) == generated.group(2)

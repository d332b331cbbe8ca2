"""The `valora-spec` command: validate, lint, release, and the subcommands others plug in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from valora_spec import _spec, cli

ROOT = _spec.repo_root()


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A copy of spec/ in a repository of its own (no node_modules, no releases.json)."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    shutil.copytree(ROOT / "spec", tmp_path / "spec",
                    ignore=shutil.ignore_patterns(_spec.RELEASES_FILE))
    monkeypatch.setattr(_spec, "repo_root", lambda start=None: tmp_path)
    return tmp_path


def test_validate_every_version(capsys):
    assert cli.main(["validate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == _spec.released_versions(ROOT)
    assert all(": ok (" in line for line in lines)


def test_validate_reports_every_kind_of_problem(tmp_path, capsys):
    doc = _spec.load_spec("1.0.0")
    del doc["info"]["version"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    dangling = tmp_path / "dangling.yaml"
    doc = _spec.load_spec("1.0.0")
    doc["components"]["schemas"]["Meter"]["properties"]["id"] = {"$ref": "#/components/schemas/X"}
    dangling.write_text(yaml.safe_dump(doc), encoding="utf-8")
    bad_example = tmp_path / "bad_example.yaml"
    doc = _spec.load_spec("1.0.0")
    doc["components"]["schemas"]["Timestamp"]["examples"] = ["yesterday"]
    bad_example.write_text(yaml.safe_dump(doc), encoding="utf-8")

    assert cli.main(["validate", "1.0.0", str(broken), str(dangling), str(bad_example)]) == 1
    out = capsys.readouterr().out
    assert "1.0.0: ok" in out
    assert f"{broken}: FAIL" in out and "openapi: #/info: \"version\" is a required property" in out
    assert f"{dangling}: FAIL" in out and "ref: #/components/schemas/Meter" in out
    assert f"{bad_example}: FAIL" in out and "'yesterday' is not a 'date-time'" in out


def test_validate_an_unknown_version_is_a_usage_error(capsys):
    assert cli.main(["validate", "9.9.9"]) == 2
    assert "unknown version 9.9.9" in capsys.readouterr().err


def test_an_unknown_subcommand_exits_2_with_argparse_message(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_no_subcommand_prints_usage_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: valora-spec" in capsys.readouterr().err


def test_the_module_runs_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "valora_spec.cli", "validate", "1.2.0"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1.2.0: ok")


def test_other_subcommands_plug_in_when_present():
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert {"validate", "lint", "release"} <= set(commands)
    for module, name in [("valora_spec.compat._cli", "compat"), ("valora_spec._report_cli", "report")]:
        try:
            __import__(module)
        except ImportError:
            continue
        assert name in commands


def test_the_cli_works_without_the_other_subcommands(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "valora_spec.compat._cli", None)
    monkeypatch.setitem(sys.modules, "valora_spec._report_cli", None)
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == {"validate", "lint", "release", "conformance"}
    assert cli.main(["validate", "1.0.0"]) == 0


def test_lint_without_node_modules_says_so(fake_root, capsys):
    assert cli.main(["lint", "1.0.0"]) == 0
    out = capsys.readouterr().out
    assert "1.0.0 spectral: skipped, not installed" in out
    assert "1.0.0 redocly: skipped, not installed" in out


def test_release_records_digests_and_never_changes_them(fake_root, capsys):
    record_path = fake_root / "spec" / _spec.RELEASES_FILE
    assert cli.main(["release", "1.0.0"]) == 0
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["releases"] == {"1.0.0": _spec.folder_digests(fake_root / "spec" / "1.0.0")}

    assert cli.main(["release", "1.0.0"]) == 0
    assert "already released, the folder is unchanged" in capsys.readouterr().out

    spec_file = fake_root / "spec" / "1.0.0" / "openapi.yaml"
    spec_file.write_text(spec_file.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    before = record_path.read_bytes()
    assert cli.main(["release", "1.0.0"]) == 1
    assert "REFUSED" in capsys.readouterr().out
    assert record_path.read_bytes() == before

    assert cli.main(["release", "1.2.0"]) == 0
    assert cli.main(["release", "1.1.0"]) == 0
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert list(record["releases"]) == ["1.0.0", "1.1.0", "1.2.0"]


def test_release_refuses_a_spec_that_does_not_validate(fake_root, capsys):
    folder = fake_root / "spec" / "1.3.0"
    shutil.copytree(fake_root / "spec" / "1.2.0", folder)
    doc = _spec.load_spec("1.3.0", fake_root)
    doc["components"]["schemas"]["Timestamp"]["examples"] = ["yesterday"]
    (folder / "openapi.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert cli.main(["release", "1.3.0"]) == 1
    assert "does not validate" in capsys.readouterr().out
    assert not (fake_root / "spec" / _spec.RELEASES_FILE).exists()


@pytest.mark.parametrize("version", ["1.2", "9.9.9"])
def test_release_of_a_bad_version_is_a_usage_error(fake_root, version, capsys):
    assert cli.main(["release", version]) == 2
    assert capsys.readouterr().err.startswith("valora-spec release: ")

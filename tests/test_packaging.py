"""The installed package: data found through the package, the pytest plugin inert elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

from valora_spec import _paths

ROOT = Path(__file__).resolve().parents[1]
REPORT_FILES = ("valora_spec/report/schema/report.schema.json", "valora_spec/report/templates/report.html.j2")


def test_package_data_is_the_repositorys_single_source() -> None:
    for name, folder in (("spec", _paths.SPEC_DIR), ("profiles", _paths.PROFILES_DIR)):
        assert folder.is_symlink() and folder.resolve() == ROOT / name  # a link, never a copy
    assert (_paths.SPEC_DIR / "1.0.0" / "openapi.yaml").is_file()


def test_the_report_format_is_the_report_packages_own_data() -> None:
    data = files("valora_spec.report")
    assert (data / "schema" / "report.schema.json").is_file()
    assert (data / "templates" / "report.html.j2").is_file()
    # the path the README names stays, as a link to the one copy
    top = ROOT / "reports" / "report.schema.json"
    assert top.is_symlink() and top.resolve() == ROOT / REPORT_FILES[0]


def test_the_wheel_carries_the_report_format(tmp_path: Path) -> None:
    pytest.importorskip("uv")
    done = subprocess.run([sys.executable, "-m", "uv", "build", "--quiet", "--wheel", "--out-dir",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(REPORT_FILES) <= names
    assert not any(name.startswith("valora_spec/_data/reports") for name in names)


def test_the_plugin_leaves_other_pytest_runs_alone(tmp_path: Path) -> None:
    (tmp_path / "test_theirs.py").write_text("def test_ok():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALORA_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "Valora" not in done.stdout + done.stderr
    assert not (tmp_path / "reports").exists()  # no run was started, no report written

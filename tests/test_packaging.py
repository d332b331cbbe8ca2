"""The installed package: data found through the package, the pytest plugin inert elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from valora_spec import _paths

ROOT = Path(__file__).resolve().parents[1]


def test_package_data_is_the_repositorys_single_source() -> None:
    for name, folder in (("spec", _paths.SPEC_DIR), ("profiles", _paths.PROFILES_DIR),
                         ("reports", _paths.REPORTS_DIR)):
        assert folder.is_symlink() and folder.resolve() == ROOT / name  # a link, never a copy
    assert (_paths.SPEC_DIR / "1.0.0" / "openapi.yaml").is_file()
    assert (_paths.REPORTS_DIR / "report.schema.json").is_file()


def test_the_plugin_leaves_other_pytest_runs_alone(tmp_path: Path) -> None:
    (tmp_path / "test_theirs.py").write_text("def test_ok():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALORA_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "Valora" not in done.stdout + done.stderr
    assert not (tmp_path / "reports").exists()  # no run was started, no report written

"""A normal (not editable) install finds its own rule book: build the wheel, install it into a
fresh virtual environment, and run the tool from outside the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cctv_policy import __version__

REPO = Path(__file__).resolve().parents[1]
BINDINGS = "opa-golib-python-bindings==0.4.4"  # as scripts/install.sh installs it


def _run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600
    )


# Builds and installs the wheel in a fresh venv (about a minute).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv with the built wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", base / "dist", REPO)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((base / "dist").glob("cctv_policy-*.whl"))
    venv = base / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    done = _run(*pip, wheel)
    assert done.returncode == 0, done.stderr[-2000:]
    done = _run(*pip, "--no-deps", "--ignore-requires-python", BINDINGS)
    assert done.returncode == 0, done.stderr[-2000:]
    return venv / "bin"


def test_the_wheel_carries_the_rule_book_and_one_version(installed: Path, tmp_path: Path) -> None:
    shutil.copytree(REPO / "registry", tmp_path / "registry")
    version = _run(installed / "cctv-policy", "--version", cwd=tmp_path)
    assert version.stdout.strip().endswith(__version__)
    check = _run(
        installed / "cctv-policy",
        "check",
        "--now",
        "2026-11-25T12:00:00+08:00",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stdout[-1500:] + check.stderr[-1500:]
    assert '"policies_ran": true' in check.stdout
    rego = _run(installed / "cctv-policy", "test", "--run", "cameras_test", cwd=tmp_path)
    assert rego.returncode == 0 and "PASS:" in rego.stdout, rego.stdout[-1500:]

"""A package installed beside the enforcer cannot hook into registry validation: pydantic
loads every `pydantic` entry point it finds as a plugin, unless told not to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testing.helpers import DEMO_REGISTRY

PLUGIN = """\
from pathlib import Path

Path({marker!r}).write_text("loaded")


class Plugin:
    def new_schema_validator(self, *args, **kwargs):
        return None, None, None


plugin = Plugin()
"""


def _install_plugin(site: Path, marker: Path) -> None:
    (site / "snoop_plugin.py").write_text(PLUGIN.format(marker=str(marker)))
    info = site / "snoop_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: snoop-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nsnoop = snoop_plugin:plugin\n")


def _load_registry(site: Path, extra_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *sys.path])
    env.update(extra_env)
    code = (
        "from cctv_policy.registry import load_registry\n"
        f"assert load_registry({str(DEMO_REGISTRY)!r}).cameras\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def test_an_installed_pydantic_plugin_is_not_loaded(tmp_path: Path) -> None:
    site, marker = tmp_path / "site", tmp_path / "marker"
    site.mkdir()
    _install_plugin(site, marker)
    _load_registry(site, {})
    assert not marker.exists(), "a package's pydantic plugin ran inside the enforcer"


def test_the_plugin_would_load_without_the_guard(tmp_path: Path) -> None:
    """The attack is real: the same plugin is loaded when the operator allows plugins."""
    site, marker = tmp_path / "site", tmp_path / "marker"
    site.mkdir()
    _install_plugin(site, marker)
    _load_registry(site, {"PYDANTIC_DISABLE_PLUGINS": ""})
    assert marker.read_text() == "loaded"

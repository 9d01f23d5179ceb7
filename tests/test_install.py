"""``load_demo()`` works from a normal (non-editable) install of the built wheel."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (test extra) builds the wheel offline")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True)
    return next(out.glob("cci_geo-*.whl"))


def test_wheel_ships_the_demo_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "cci_geo/_data/beijing_cci_demo.gpkg" in names
    assert "cci_geo/_data/README.md" in names
    assert "cci_geo/_data/scenarios/old_factory_reuse.toml" in names  # briefing's suitability


def test_load_demo_from_installed_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import cci_geo, sys; a = cci_geo.load_demo(); "
            "assert '/site/cci_geo/' in cci_geo.__file__, cci_geo.__file__; "
            "print(len(a['enterprises']), cci_geo.datasets.demo_path())")
    env = {**os.environ, "PYTHONPATH": str(site)}
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True)
    count, path = res.stdout.split()
    assert int(count) == 20000
    assert path.startswith(str(site))

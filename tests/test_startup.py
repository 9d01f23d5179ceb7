"""Start-up of the package and the command: light imports, Ctrl-C handled from the start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("geopandas", "pyogrio", "pyproj", "shapely", "pandas", "numpy", "folium", "osmnx")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp), **extra}


def _loaded_after(code: str, tmp_path: Path) -> list[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=_env(tmp_path), check=True).stdout
    return sorted({m.split(".")[0] for m in out.split()} & set(HEAVY))


@pytest.mark.parametrize("code", ["import cci_geo", "import cci_geo.cli.main",
                                  "from cci_geo import Settings, CciGeoError, SchemaError"])
def test_importing_the_package_or_the_command_loads_no_heavy_dependency(code, tmp_path):
    assert _loaded_after(code, tmp_path) == []


def test_lazy_entry_points_still_resolve(tmp_path):
    code = ("import cci_geo\nfrom cci_geo import *\n"
            "assert Atlas is cci_geo.Atlas and Atlas.__module__ == 'cci_geo.atlas'\n"
            "assert read_layer.__module__ == 'cci_geo.io' and callable(validate)\n"
            "assert SECTORS and datum.__name__ == 'cci_geo.datum'\n"
            "assert set(cci_geo.__all__) <= set(dir(cci_geo))\n")
    assert "geopandas" in _loaded_after(code, tmp_path)  # loaded when first used
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        import cci_geo

        _ = cci_geo.nope


def _command(kind: str) -> list[str]:
    if kind == "module":
        return [sys.executable, "-m", "cci_geo.cli.main", "info"]
    # the script pip wrote next to this interpreter, not a PATH shim (pyenv's is a bash script)
    script = Path(sysconfig.get_path("scripts")) / "cci-geo"
    if not script.is_file():
        pytest.skip("the cci-geo console script is not installed")
    return [str(script), "info"]


@pytest.mark.parametrize(("kind", "delay_s"), [("module", 0.2), ("module", 1.0),
                                               ("script", 0.2)])
def test_ctrl_c_while_the_command_starts_exits_130_with_one_line(kind, delay_s, tmp_path):
    tmp, cwd = tmp_path / "tmp", tmp_path / "cwd"
    tmp.mkdir()
    cwd.mkdir()
    log = tmp_path / "stderr.txt"
    # The import-time log tells when the command's own module is loaded: a Ctrl-C before that
    # lands in the interpreter's start-up (site, encodings), which no program can handle.
    env = _env(tmp, PYTHONPROFILEIMPORTTIME="1")
    started = time.monotonic()
    with log.open("w") as err_file:
        proc = subprocess.Popen(_command(kind), cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                stderr=err_file)
        try:
            while "cci_geo.cli._i18n" not in log.read_text() and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(max(0.0, delay_s - (time.monotonic() - started)))
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    lines = [ln for ln in log.read_text().splitlines() if not ln.startswith("import time:")]
    if code == 0:
        pytest.skip(f"cci-geo info finished within {delay_s} s, before the signal")
    assert code == 130, lines
    assert not any("Traceback" in ln or "KeyboardInterrupt" in ln for ln in lines), lines
    assert len(lines) == 1 and "interrupted" in lines[0], lines
    assert list(tmp.iterdir()) == [] and list(cwd.iterdir()) == []


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly(tmp_path):
    # `cci-geo info | head -1`: the first line arrives, then the pipe closes under the command
    cmd = (f"{sys.executable} -m cci_geo.cli.main info | head -c 10 >/dev/null; "
           "echo \"status ${PIPESTATUS[0]}\"")
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                         env=_env(tmp_path), timeout=300)
    assert "Traceback" not in out.stderr and "bug" not in out.stderr, out.stderr
    assert out.stdout.strip() in ("status 0", "status 141"), out.stdout

"""Nothing is lost: exclusive creation, sidecars, exact text, transactions under faults."""

from __future__ import annotations

import errno
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from cci_geo import _files
from cci_geo._files import atomic_path, check_writable, safe_relative, transaction
from cci_geo.errors import DataError, OutputExistsError, OutputWriteError, ParameterError
from cci_geo.io import read_layer, write_layer

REPO = Path(__file__).resolve().parents[1]


def _layer(tag: str, n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [f"{tag}{i}" for i in range(n)], "tag": [tag] * n},
                            geometry=[Point(116.4 + i / 100, 39.9) for i in range(n)],
                            crs="EPSG:4326")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".cci_geo-staging-*"))


# -- exclusive creation --------------------------------------------------------------------


def _race_writer(path: str, tag: str, start: float, queue: mp.Queue) -> None:
    while time.time() < start:  # both processes leave the gate together
        pass
    try:
        write_layer(_layer(tag, 2000), path)
        queue.put((tag, "ok"))
    except OutputExistsError:
        queue.put((tag, "exists"))


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_two_processes_never_both_win_overwrite_false(tmp_path, suffix):
    target = tmp_path / f"race{suffix}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start = time.time() + 3.0
    procs = [ctx.Process(target=_race_writer, args=(str(target), tag, start, queue))
             for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = dict(queue.get(timeout=5) for _ in procs)
    assert sorted(results.values()) == ["exists", "ok"], results
    winner = next(t for t, r in results.items() if r == "ok")
    back = read_layer(target)
    assert set(back["tag"]) == {winner} and len(back) == 2000
    assert _leftovers(tmp_path) == []


def test_link_unsupported_falls_back_to_exclusive_reservation(tmp_path, monkeypatch):
    def no_link(*_a, **_k):
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(_files.os, "link", no_link)
    write_layer(_layer("a"), tmp_path / "x.gpkg")
    with pytest.raises(OutputExistsError), atomic_path(tmp_path / "y.txt") as tmp:
        tmp.write_text("new")
        (tmp_path / "y.txt").write_text("someone else")  # appears while we write
    assert (tmp_path / "y.txt").read_text() == "someone else"


def test_a_shapefiles_sidecars_count_as_the_file(tmp_path):
    dbf = tmp_path / "side.dbf"
    dbf.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="side.dbf"):
        write_layer(_layer("a"), tmp_path / "side.shp")
    assert dbf.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["side.dbf"]


def test_overwriting_a_shapefile_removes_stale_sidecars(tmp_path):
    target = tmp_path / "s.shp"
    write_layer(_layer("a"), target)
    (tmp_path / "s.qix").write_bytes(b"old spatial index")
    write_layer(_layer("b"), target, overwrite=True)
    assert not (tmp_path / "s.qix").exists()
    assert set(read_layer(target)["tag"]) == {"b"}


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"])
def test_text_that_cannot_be_written_back_exactly_is_refused(tmp_path, bad):
    gdf = _layer("a")
    gdf["tag"] = gdf["tag"].astype(object)  # pandas' string dtype cannot hold surrogates
    gdf.loc[1, "tag"] = bad
    with pytest.raises(DataError, match="column 'tag'.*rows \\[1\\]"):
        write_layer(gdf, tmp_path / "t.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_shapefile_limits_are_refused_not_truncated(tmp_path):
    gdf = _layer("a").assign(a_very_long_name=1)
    with pytest.raises(DataError, match="10 bytes"):
        write_layer(gdf, tmp_path / "t.shp")
    gdf = _layer("a")
    gdf.loc[0, "tag"] = "长" * 100  # 300 bytes of UTF-8
    with pytest.raises(DataError, match="254 bytes"):
        write_layer(gdf, tmp_path / "t.shp")
    write_layer(gdf, tmp_path / "t.gpkg")
    assert read_layer(tmp_path / "t.gpkg")["tag"].iloc[0] == "长" * 100


def test_cheap_checks_name_the_problem(tmp_path):
    with pytest.raises(ParameterError, match="is a folder"):
        check_writable(tmp_path, overwrite=True)
    with pytest.raises(ParameterError, match="bytes long"):
        check_writable(tmp_path / ("园" * 120 + ".csv"), overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="is a file, not a folder"):
        check_writable(tmp_path / "file" / "out.csv", overwrite=False)
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(ParameterError, match="permission denied"):
            check_writable(ro / "out.csv", overwrite=False)


def test_scenario_paths_stay_inside_the_output_folder(tmp_path):
    assert safe_relative("a/b.csv", tmp_path, what="x") == tmp_path / "a" / "b.csv"
    for bad in ("../escape.csv", "/etc/passwd", "a/../../b.csv"):
        with pytest.raises(ParameterError, match="outside the output folder"):
            safe_relative(bad, tmp_path, what="[output] sites")
    assert safe_relative("../ok.csv", tmp_path, what="x", allow_outside=True).name == "ok.csv"
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(ParameterError):
        safe_relative("link/x.csv", tmp_path, what="x")


# -- transactions --------------------------------------------------------------------------


def _old_set(out: Path) -> dict[str, str]:
    files = {"a.csv": "old a", "b.csv": "old b", "manifest.json": "old manifest"}
    for name, text in files.items():
        (out / name).write_text(text)
    return files


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in out.iterdir() if p.is_file()}


def test_a_full_disk_while_staging_leaves_the_previous_set(tmp_path):
    old = _old_set(tmp_path)
    with (pytest.raises(OutputWriteError, match="no space left on the device"),
          transaction(tmp_path, overwrite=True, manifest="manifest.json") as stage):
        stage.path("a.csv").write_text("new a")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert _contents(tmp_path) == old
    assert _leftovers(tmp_path) == []


def test_a_failure_while_moving_rolls_back_to_the_previous_set(tmp_path, monkeypatch):
    old = _old_set(tmp_path)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        if ".cci_geo-staging-" in str(src) and "old-" not in str(src):
            calls["n"] += 1
            if calls["n"] == 2:  # the second new file fails to move
                raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(_files.os, "replace", flaky)
    with (pytest.raises(OSError, match="I/O error"),
          transaction(tmp_path, overwrite=True, manifest="manifest.json") as stage):
        for name in ("a.csv", "b.csv", "manifest.json"):
            stage.path(name).write_text(f"new {name}")
    assert _contents(tmp_path) == old
    assert _leftovers(tmp_path) == []


def test_a_transaction_moves_the_manifest_last_and_refuses_existing(tmp_path, monkeypatch):
    order: list[str] = []
    real = os.link

    def spy(src, dst):
        order.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(_files.os, "link", spy)
    with transaction(tmp_path, manifest="m.json") as stage:
        for name in ("m.json", "z.csv", "a.csv"):
            stage.path(name).write_text(name)
    assert order[-1] == "m.json" and sorted(order) == ["a.csv", "m.json", "z.csv"]
    with pytest.raises(OutputExistsError), transaction(tmp_path, manifest="m.json") as stage:
        stage.path("new.csv").write_text("x")
        stage.path("a.csv").write_text("y")
    assert not (tmp_path / "new.csv").exists() and (tmp_path / "a.csv").read_text() == "a.csv"
    assert _leftovers(tmp_path) == []


SIGINT_SCRIPT = textwrap.dedent("""
    import sys, time
    from cci_geo._files import transaction
    out = sys.argv[1]
    with transaction(out, manifest="m.json") as stage:
        stage.path("a.csv").write_text("a")
        print("staged", flush=True)
        time.sleep(60)
        stage.path("m.json").write_text("m")
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_leaves_nothing(tmp_path, sig):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = SIGINT_SCRIPT
    if sig == signal.SIGTERM:  # as the CLI does: SIGTERM unwinds like Ctrl-C
        code = ("import signal\n"
                "def _t(*a):\n    raise KeyboardInterrupt\n"
                "signal.signal(signal.SIGTERM, _t)\n") + code
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stdout.readline().strip() == "staged"
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert not out.exists()  # no output, no staging folder, not even the folder it made


def test_cli_ctrl_c_exits_130_without_traceback_or_temporary_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("unrelated")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cci_geo.cli.main", "-v", "score",
         str(REPO / "scenarios" / "old_factory_reuse.toml"), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    first = proc.stderr.readline()  # the first log line: the command is running
    assert first.startswith("INFO"), first
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 kB tmpfs, so the disk really fills up (needs root and mount; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("suffix", [".gpkg", ".csv", ".shp", ".geojson"])
def test_a_really_full_disk_is_a_clear_error_and_leaves_nothing(tiny_disk, suffix):
    (tiny_disk / "keep.txt").write_text("previous")
    big = gpd.GeoDataFrame({"name": [f"园区{i:07d}" * 8 for i in range(20000)]},
                           geometry=[Point(116.4 + i * 1e-5, 39.9) for i in range(20000)],
                           crs="EPSG:4326")
    with pytest.raises(OutputWriteError, match="no space left"):
        write_layer(big, tiny_disk / f"big{suffix}")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["keep.txt"]

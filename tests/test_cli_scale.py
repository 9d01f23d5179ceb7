"""``--scheduler`` on the commands that scale: parsed, passed to Settings, clear when bad."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

import cci_geo
from cci_geo import scale
from cci_geo.cli.main import build_parser, main
from cci_geo.concentration import kernel_density

distributed = pytest.importorskip("distributed")

SCENARIO = "scenarios/old_factory_reuse.toml"
SCALING = ("score", "density")


@pytest.fixture(scope="module")
def firms():
    ent = cci_geo.load_demo()["enterprises"]
    return ent[ent["district"] == "110105"]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as c:
        yield c


def _args(command, *extra):
    first = SCENARIO if command == "score" else "firms.parquet"
    more = () if command == "score" else ("--bandwidth-m", "1000")
    return [command, first, *more, *extra]


@pytest.mark.parametrize("command", SCALING)
@pytest.mark.parametrize(("given", "parsed"), [("local", "local"),
                                               ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
                                               ("dask-scheduler:8786",
                                                "tcp://dask-scheduler:8786")])
def test_scheduler_option_parses(command, given, parsed):
    args = build_parser().parse_args(_args(command, "--scheduler", given))
    assert args.scheduler == parsed
    assert build_parser().parse_args(_args(command)).scheduler is None


@pytest.mark.parametrize("command", SCALING)
@pytest.mark.parametrize("bad", ["loacl", "tcp://host", "http://host:8786", "host:port"])
def test_a_malformed_address_is_a_usage_error(command, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(_args(command, "--scheduler", bad))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"scheduler {bad!r}" in err and "leave out --scheduler" in err


def test_score_passes_the_scheduler_and_progress_to_settings(monkeypatch, tmp_path):
    seen = {}

    def fake(scenario, out_dir, **kw):
        seen.update(kw)
        raise cci_geo.errors.DataError("stop here")

    import cci_geo.suitability as su

    monkeypatch.setattr(su, "score_chunked", fake)
    code = main(["score", SCENARIO, "--out", str(tmp_path), "--scheduler", "tcp://h:8786"])
    assert code == 1
    assert seen["settings"].scheduler == "tcp://h:8786" and seen["settings"].progress


def test_density_on_a_cluster_equals_in_memory_with_dasks_progress_bar(firms, cluster,
                                                                        tmp_path, capsys):
    firms.to_parquet(tmp_path / "firms.parquet")
    out = tmp_path / "kde.tif"
    code = main(["density", str(tmp_path / "*.parquet"), "--bandwidth-m", "1000",
                 "--cell-size-m", "250", "--weight", "employees", "--out", str(out),
                 "--scheduler", cluster.scheduler_address])
    assert code == 0
    captured = capsys.readouterr()
    assert "% Completed" in captured.out  # distributed's own text progress bar
    ref = kernel_density(firms, cell_size_m=250, bandwidth_m=1000, weight="employees")
    with rasterio.open(out) as src:
        got = src.read(1)
        assert src.transform == ref.transform
    np.testing.assert_allclose(got, ref.data, rtol=1e-5, atol=1e-6)  # written as float32


def test_density_of_a_layer_file_in_memory(firms, tmp_path):
    firms.to_file(tmp_path / "firms.gpkg")
    out = tmp_path / "kde.tif"
    assert main(["density", str(tmp_path / "firms.gpkg"), "--bandwidth-m", "1000",
                 "--cell-size-m", "250", "--out", str(out)]) == 0
    assert main(["density", str(tmp_path / "firms.gpkg"), "--bandwidth-m", "1000",
                 "--out", str(out)]) == 1  # exists, no --overwrite


def test_an_unreachable_scheduler_is_a_clear_error(firms, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(scale, "_CONNECT_TIMEOUT_S", 0.5)
    firms.to_parquet(tmp_path / "firms.parquet")
    code = main(["density", str(tmp_path / "firms.parquet"), "--bandwidth-m", "1000",
                 "--out", str(tmp_path / "kde.tif"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err
    assert "--scheduler local" in err
    assert not (tmp_path / "kde.tif").exists()

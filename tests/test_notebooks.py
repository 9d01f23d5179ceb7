"""Execute every planner notebook in ``notebooks/`` top to bottom, offline.

Each notebook runs in a fresh kernel of *this* interpreter (a kernelspec written to a temporary
directory, so nothing outside the environment is used) with a scratch working directory, so the
files a notebook writes (GeoTIFFs, HTML maps, GeoPackages) never land in the repository, and
with HTTP(S) sent to a dead proxy, so a notebook that needs the internet fails. A failing cell
fails the test; so does a warning printed by a cell that is not tagged
``expect-warning`` (a planner's guide should not spew warnings). Select one notebook with e.g.
``pytest tests/test_notebooks.py -k 03_old_factory``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ("01_beijing_cci_atlas", "02_concentration", "03_old_factory_suitability",
            "04_layout_optimisation", "05_jingjinji_corridors", "06_street_access",
            "07_is_the_policy_working")
CELL_TIMEOUT_S = 600
KERNEL = "python3"
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Jupyter data directory whose ``python3`` kernelspec runs ``sys.executable``.

    ``JUPYTER_PATH`` takes precedence over user and system kernelspecs, so the notebooks run in
    the interpreter (and environment) running the tests.
    """
    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(path=str(root / "kernels" / KERNEL))
    spec = json.loads((root / "kernels" / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return str(root)


def _warnings_printed(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "expect-warning" in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr" \
                    and "Warning" in out.get("text", ""):
                found.append(f"cell {i}: {out['text'].strip()[:400]}")
    return found


def test_warning_check_flags_only_untagged_cells() -> None:
    new = nbformat.v4
    nb = new.new_notebook(cells=[new.new_code_cell("a"), new.new_code_cell("b"),
                                 new.new_code_cell("c", metadata={"tags": ["expect-warning"]})])
    nb.cells[0].outputs = [new.new_output("stream", name="stdout", text="UserWarning: fine")]
    for cell in nb.cells[1:]:
        cell.outputs = [new.new_output("stream", name="stderr", text="UserWarning: boom\n")]
    assert _warnings_printed(nb) == ["cell 1: UserWarning: boom"]


def test_every_notebook_is_present() -> None:
    assert sorted(p.stem for p in NOTEBOOKS) == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs; clear them"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert nb.metadata.kernelspec.name == KERNEL
    assert path.stat().st_size < 100_000, f"{path.name} is larger than 100 kB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, jupyter_path: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    before = sorted(NOTEBOOK_DIR.iterdir())
    # The kernel inherits this environment: inline plots, and every HTTP(S) request through a
    # dead proxy, so a notebook that tries to download (tiles, OSM, geocoding) fails here.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.setenv(var, DEAD_PROXY)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", jupyter_path)
    monkeypatch.chdir(tmp_path)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    assert nb.cells[-1].outputs[0]["text"].strip() == sys.executable
    assert not _warnings_printed(nb), "\n".join(_warnings_printed(nb))
    assert sorted(NOTEBOOK_DIR.iterdir()) == before, "a notebook wrote into notebooks/"

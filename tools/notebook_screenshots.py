"""Regenerate the README screenshots of the planner notebooks' main maps (``docs/img/``).

Each notebook in ``notebooks/`` is executed top to bottom in a scratch directory (in a kernel of
this interpreter, as ``tests/test_notebooks.py`` does). The self-contained HTML map it saves
with ``cci_geo.maps.save_html`` is opened in headless Chromium with every network request
blocked; the layers named below are switched on or off in the layer control (so the picture
shows the notebook's main result whatever the map's default visibility), and the window is
saved as a PNG under 300 kB.

    python tools/notebook_screenshots.py              # every notebook
    python tools/notebook_screenshots.py 03 05        # notebooks whose name starts so

Needs the ``test`` extra (nbclient, ipykernel, selenium) and Debian ``chromium`` +
``chromium-driver``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OUT = REPO / "docs" / "img"
MAX_BYTES = 300_000
WINDOW = (1200, 800)

logger = logging.getLogger("notebook_screenshots")


@dataclass(frozen=True)
class Shot:
    """The main map of one notebook: the HTML file it writes and the layers to show or hide."""

    html: str
    switch_on: tuple[str, ...] = ()
    switch_off: tuple[str, ...] = ()


SHOTS: dict[str, Shot] = {
    "01_beijing_cci_atlas": Shot("beijing_cci_atlas.html", ("Creative enterprises",)),
    "02_concentration": Shot("concentration_briefing.html", switch_off=("Hot spots (Gi*)",)),
    "03_old_factory_suitability": Shot("old_factory_reuse.html",
                                       ("Site suitability", "Candidate site scores")),
    "04_layout_optimisation": Shot("layout_before_after.html"),
    "05_jingjinji_corridors": Shot("jingjinji_corridors.html",
                                   ("Corridor zones", "Creative-industry flows",
                                    "Cooperation candidates")),
    "06_street_access": Shot("street_access.html", ("Venue accessibility", "Old factory sites"),
                             ("Isochrones",)),
}


def _kernel_path(root: Path) -> str:
    """Write a ``python3`` kernelspec running this interpreter; return the Jupyter data dir."""
    from ipykernel.kernelspec import write_kernel_spec

    write_kernel_spec(path=str(root / "kernels" / "python3"))
    spec = json.loads((root / "kernels" / "python3" / "kernel.json").read_text())
    if spec["argv"][0] != sys.executable:  # pragma: no cover - ipykernel guarantees it
        msg = f"kernelspec runs {spec['argv'][0]}, not {sys.executable}"
        raise RuntimeError(msg)
    return str(root)


def run_notebook(path: Path, workdir: Path) -> None:
    """Execute ``path`` with ``workdir`` as the working directory (outputs are discarded)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(workdir)}}).execute()


def _driver(width: int, height: int):  # noqa: ANN202 - selenium is an optional dependency
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                 "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--force-device-scale-factor=1"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs",
                           {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": False})
    return driver


_SWITCH_LAYERS = """
const [on, off] = arguments;
const labels = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'));
const names = labels.map(l => l.innerText.trim());
for (const [wanted, state] of [[on, true], [off, false]]) {
  for (const name of wanted) {
    const label = labels.find(l => l.innerText.trim() === name);
    if (!label) { return 'no layer named ' + name + '; layers are ' + names.join(', '); }
    const box = label.querySelector('input');
    if (box.checked !== state) { box.click(); }
  }
}
return '';
"""


def screenshot(html: Path, png: Path, switch_on: tuple[str, ...] = (),
               switch_off: tuple[str, ...] = ()) -> int:
    """Save ``html`` as a PNG with the named layers switched on/off; return its size."""
    from PIL import Image

    driver = _driver(*WINDOW)
    try:
        driver.get(html.resolve().as_uri())
        time.sleep(2.0)
        problem = driver.execute_script(_SWITCH_LAYERS, list(switch_on), list(switch_off))
        if problem:
            msg = f"{html.name}: {problem}"
            raise RuntimeError(msg)
        time.sleep(1.5)
        raw = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    png.parent.mkdir(parents=True, exist_ok=True)
    # Full colour when it fits (palettes shift the legend colours); else an octree palette.
    candidates = [image] + [image.quantize(colors=n, method=Image.Quantize.FASTOCTREE)
                            for n in (256, 128)]
    for candidate in candidates:
        buf = io.BytesIO()
        candidate.save(buf, format="PNG", optimize=True)
        if buf.tell() <= MAX_BYTES:
            break
    else:
        msg = f"{png.name}: {buf.tell()} bytes even with a 128-colour palette"
        raise RuntimeError(msg)
    tmp = png.with_suffix(".png.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(png)
    return buf.tell()


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks selected by ``argv`` and refresh their screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebook name prefixes (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    chosen = [n for n in SHOTS if not args.prefixes or n.startswith(tuple(args.prefixes))]
    with tempfile.TemporaryDirectory(prefix="cci-geo-shots-") as tmp:
        os.environ["JUPYTER_PATH"] = _kernel_path(Path(tmp) / "jupyter")
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        for name in chosen:
            nb = NOTEBOOKS / f"{name}.ipynb"
            if not nb.exists():
                logger.warning("%s: notebook missing, skipped", name)
                continue
            work = Path(tmp) / name
            work.mkdir()
            started = time.perf_counter()
            run_notebook(nb, work)
            shot = SHOTS[name]
            png = OUT / f"{name}.png"
            size = screenshot(work / shot.html, png, shot.switch_on, shot.switch_off)
            logger.info("%s: ran in %.0f s, %s %.0f kB", name, time.perf_counter() - started,
                        png.relative_to(REPO), size / 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())

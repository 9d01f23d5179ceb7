"""Refresh the JavaScript/CSS assets that self-contained briefing maps inline.

``cci_geo.maps.save_html(..., self_contained=True)`` replaces every CDN ``<script>`` and
``<link rel="stylesheet">`` that folium, branca and the folium plugins emit with a copy shipped
in ``cci_geo/maps/assets/``. This script rebuilds those copies from the npm registry with
``npm pack`` (the only network access it needs), so the shipped files are the published
packages, byte for byte, except for two documented transformations:

* CSS ``url(...)`` references to images and fonts inside the package are replaced by ``data:``
  URIs (``@font-face`` rules keep only their WOFF2 source), so a stylesheet is one file;
* two tiny files folium takes from places that are not npm packages are derived:
  ``bootstrap-glyphicons.css`` (the Glyphicons rules and font of Bootstrap 3.4.1) and
  ``leaflet.awesome.rotate.css`` (the ``fa-rotate-N`` classes folium's ``Icon(angle=N)`` uses).

Every package's licence file is copied next to its assets, and ``assets.json`` records, for
each asset, the CDN URLs it stands for, the npm package and version, the file inside the
package and its SHA-256.

Usage::

    python tools/refresh_map_assets.py            # rebuild cci_geo/maps/assets/
    python tools/refresh_map_assets.py --check    # verify shipped files against assets.json

To support a new plugin, add an entry to ``SOURCES`` with the CDN URL(s) folium renders and
the npm package file that provides it, then run the script.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import mimetypes
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("refresh_map_assets")

ASSET_DIR = Path(__file__).resolve().parent.parent / "cci_geo" / "maps" / "assets"
MANIFEST = "assets.json"
# cci_geo_maps.js, cci_geo_points.js, cci_geo_maps.css and LICENSE-cci_geo.txt in the same
# folder are cci_geo's own files (not from npm); this script never touches them.


@dataclass(frozen=True)
class Source:
    """One shipped asset: which CDN URLs it replaces and where npm has it."""

    name: str
    kind: str  # "js" or "css"
    package: str  # npm spec, e.g. "leaflet@1.9.3"
    path: str  # file inside the package tarball (below "package/")
    urls: tuple[str, ...]
    licence: str  # licence file inside the package
    derive: str = ""  # name of a derivation function instead of a verbatim copy
    extra: dict[str, str] = field(default_factory=dict)


CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
JSD = "https://cdn.jsdelivr.net"

SOURCES: tuple[Source, ...] = (
    Source("leaflet.js", "js", "leaflet@1.9.3", "dist/leaflet.js",
           (f"{JSD}/npm/leaflet@1.9.3/dist/leaflet.js",), "LICENSE"),
    Source("leaflet.css", "css", "leaflet@1.9.3", "dist/leaflet.css",
           (f"{JSD}/npm/leaflet@1.9.3/dist/leaflet.css",), "LICENSE"),
    Source("leaflet-marker-icons.json", "json", "leaflet@1.9.3", "dist/images", (), "LICENSE",
           derive="marker_icons"),
    Source("jquery.min.js", "js", "jquery@3.7.1", "dist/jquery.min.js",
           ("https://code.jquery.com/jquery-3.7.1.min.js",
            f"{CDNJS}/jquery/3.7.1/jquery.min.js"), "LICENSE.txt"),
    Source("bootstrap.bundle.min.js", "js", "bootstrap@5.2.2", "dist/js/bootstrap.bundle.min.js",
           (f"{JSD}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",), "LICENSE"),
    Source("bootstrap.min.css", "css", "bootstrap@5.2.2", "dist/css/bootstrap.min.css",
           (f"{JSD}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",), "LICENSE"),
    Source("bootstrap-glyphicons.css", "css", "bootstrap@3.4.1", "dist/css/bootstrap.css",
           ("https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",),
           "LICENSE", derive="glyphicons"),
    Source("fontawesome-all.min.css", "css", "@fortawesome/fontawesome-free@6.2.0",
           "css/all.min.css",
           (f"{JSD}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",), "LICENSE.txt",
           extra={"keep_font_families": "Font Awesome 6"}),
    Source("leaflet.awesome-markers.js", "js", "leaflet.awesome-markers@2.0.4",
           "dist/leaflet.awesome-markers.js",
           (f"{CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",), "LICENSE"),
    Source("leaflet.awesome-markers.css", "css", "leaflet.awesome-markers@2.0.4",
           "dist/leaflet.awesome-markers.css",
           (f"{CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",), "LICENSE"),
    Source("leaflet.awesome.rotate.css", "css", "leaflet.awesome-markers@2.0.4", "", (
        f"{JSD}/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",),
        "LICENSE", derive="rotate"),
    Source("Control.FullScreen.js", "js", "leaflet.fullscreen@3.0.0", "Control.FullScreen.js",
           (f"{JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
            f"{JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.js"), "LICENSE"),
    Source("Control.FullScreen.css", "css", "leaflet.fullscreen@3.0.0", "Control.FullScreen.css",
           (f"{JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",), "LICENSE"),
    Source("Control.MiniMap.min.js", "js", "leaflet-minimap@3.6.1", "dist/Control.MiniMap.min.js",
           (f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.js",
            f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.min.js"), "LICENSE.txt"),
    Source("Control.MiniMap.min.css", "css", "leaflet-minimap@3.6.1",
           "dist/Control.MiniMap.min.css",
           (f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.css",
            f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.min.css"), "LICENSE.txt"),
    Source("leaflet-measure.min.js", "js", "leaflet-measure@2.1.7", "dist/leaflet-measure.min.js",
           (f"{JSD}/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js",), "LICENSE"),
    Source("leaflet-measure.css", "css", "leaflet-measure@2.1.7", "dist/leaflet-measure.css",
           (f"{JSD}/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css",), "LICENSE"),
    Source("leaflet.markercluster.js", "js", "leaflet.markercluster@1.1.0",
           "dist/leaflet.markercluster.js",
           (f"{CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js",), "MIT-LICENCE.txt"),
    Source("MarkerCluster.css", "css", "leaflet.markercluster@1.1.0", "dist/MarkerCluster.css",
           (f"{CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css",), "MIT-LICENCE.txt"),
    Source("MarkerCluster.Default.css", "css", "leaflet.markercluster@1.1.0",
           "dist/MarkerCluster.Default.css",
           (f"{CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",), "MIT-LICENCE.txt"),
    Source("d3.min.js", "js", "d3@3.5.5", "d3.min.js", (f"{CDNJS}/d3/3.5.5/d3.min.js",),
           "LICENSE"),
    # not referenced by folium: cci_geo's own pages use it to unpack compressed layer data
    Source("pako_inflate.min.js", "js", "pako@2.1.0", "dist/pako_inflate.min.js", (),
           "LICENSE"),
)

_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_FONT_FACE_RE = re.compile(r"@font-face\s*\{[^}]*\}")


def _npm_pack(spec: str, workdir: Path) -> Path:
    """Download ``spec`` with ``npm pack`` and return the extracted ``package/`` folder."""
    target = workdir / re.sub(r"[^A-Za-z0-9._-]", "_", spec)
    if target.exists():
        return target / "package"
    target.mkdir(parents=True)
    logger.info("npm pack %s", spec)
    out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(target)],
                         check=True, capture_output=True, text=True)
    tgz = target / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def _data_uri(path: Path) -> str:
    mime = {".woff2": "font/woff2", ".svg": "image/svg+xml", ".png": "image/png",
            ".woff": "font/woff", ".ttf": "font/ttf"}.get(path.suffix.lower())
    mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _woff2_only(css: str, keep_families: str = "") -> str:
    """Keep only the WOFF2 source of each ``@font-face`` rule that has one.

    With ``keep_families``, ``@font-face`` rules whose font family does not start with it are
    dropped (Font Awesome declares the same fonts again under its v4/v5 names; inlined, each
    repetition would add the whole font again).
    """
    def fix(match: re.Match[str]) -> str:
        rule = match.group(0)
        family = re.search(r"font-family:\s*['\"]?([^;'\"]+)", rule)
        if keep_families and family and not family.group(1).startswith(keep_families):
            return ""
        srcs = re.findall(r"url\([^)]*\)\s*format\([^)]*\)|url\([^)]*\)", rule)
        woff2 = [s for s in srcs if "woff2" in s]
        if not woff2:
            return rule
        rule = re.sub(r"src:[^;}]*[;]?", "", rule)
        return rule.replace("{", "{src:" + woff2[0] + ";", 1)
    return _FONT_FACE_RE.sub(fix, css)


def _inline_urls(css: str, base: Path) -> str:
    """Replace relative ``url(...)`` references with data URIs of the files under ``base``."""
    def fix(match: re.Match[str]) -> str:
        ref = match.group(2).split("?")[0].split("#")[0]
        if ref.startswith(("data:", "http:", "https:", "//")) or not ref:
            return match.group(0)
        path = (base / ref).resolve()
        if not path.is_file():
            logger.warning("CSS references missing file %s; left as is", ref)
            return match.group(0)
        return f'url("{_data_uri(path)}")'
    return _URL_RE.sub(fix, css)


def _derive_glyphicons(pkg: Path, src: Source) -> str:
    css = (pkg / src.path).read_text(encoding="utf-8")
    face = _FONT_FACE_RE.search(css)
    rules = re.findall(r"\.glyphicon[^{]*\{[^}]*\}", css)
    if face is None or not rules:
        msg = "Bootstrap 3 CSS has no Glyphicons rules; check the package version."
        raise RuntimeError(msg)
    body = _woff2_only(face.group(0)) + "\n" + "\n".join(rules) + "\n"
    return _inline_urls(body, (pkg / src.path).parent)


def _derive_rotate(_pkg: Path, _src: Source) -> str:
    return "".join(f".fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in range(360)) + "\n"


def _derive_marker_icons(pkg: Path, src: Source) -> str:
    images = pkg / src.path
    return json.dumps({name: _data_uri(images / f"{name}.png")
                       for name in ("marker-icon", "marker-icon-2x", "marker-shadow")}, indent=0)


DERIVE = {"glyphicons": _derive_glyphicons, "rotate": _derive_rotate,
          "marker_icons": _derive_marker_icons}


def build(out_dir: Path, workdir: Path) -> dict[str, object]:
    """Fetch every source into ``out_dir`` and return the manifest."""
    entries = []
    licences: dict[str, str] = {}
    for src in SOURCES:
        pkg = _npm_pack(src.package, workdir)
        if src.derive:
            text = DERIVE[src.derive](pkg, src)
        else:
            path = pkg / src.path
            text = path.read_text(encoding="utf-8")
            if src.kind == "css":
                text = _woff2_only(text, src.extra.get("keep_font_families", ""))
                text = _inline_urls(text, path.parent)
        (out_dir / src.name).write_text(text, encoding="utf-8")
        name, _, version = src.package.rpartition("@")
        lic_name = f"LICENSE-{name.strip('@').replace('/', '-')}.txt"
        if lic_name not in licences:
            shutil.copyfile(pkg / src.licence, out_dir / lic_name)
            licences[lic_name] = src.package
        entries.append({
            "name": src.name, "type": src.kind, "package": name, "version": version,
            "source_path": src.path, "derived": src.derive or None, "urls": list(src.urls),
            "licence": lic_name,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        })
    return {"generated_by": "tools/refresh_map_assets.py", "assets": entries}


def check(out_dir: Path) -> list[str]:
    """Return problems found comparing the shipped files with the manifest."""
    manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["assets"]:
        path = out_dir / entry["name"]
        if not path.is_file():
            problems.append(f"missing {entry['name']}")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            problems.append(f"{entry['name']} differs from the manifest (sha256 {digest})")
        if not (out_dir / entry["licence"]).is_file():
            problems.append(f"missing licence {entry['licence']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ASSET_DIR, help="asset folder")
    parser.add_argument("--check", action="store_true", help="only verify the shipped files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        problems = check(args.out)
        for p in problems:
            logger.error(p)
        return 1 if problems else 0
    if shutil.which("npm") is None:
        logger.error("npm is not installed; install Node.js/npm (Debian: apt-get install npm).")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = build(args.out, Path(tmp))
    (args.out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    logger.info("wrote %d assets to %s", len(manifest["assets"]), args.out)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scenario files: a whole suitability analysis in one TOML document.

See the README section "Site suitability" for every key. Loading checks the structure and
every parameter, and raises :class:`~cci_geo.errors.ScenarioError` naming the key and the fix;
layer names are checked against the atlas when the scenario is scored.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from .criteria import Constraint, Criterion

__all__ = ["GridSpec", "LayerSpec", "Scenario", "SensitivitySpec", "load_scenario",
           "parse_scenario"]

_TOP = {"scenario", "layers", "candidates", "grid", "weights", "criteria", "constraints",
        "sensitivity"}
_CRIT_KEYS = {"name", "layer", "measure", "where", "value", "weight", "description"}


@dataclass(frozen=True)
class LayerSpec:
    """A layer read from a file (``[layers.<name>]``): path, GeoPackage layer, datum, filter."""

    path: Path
    layer: str | None = None
    datum: str = "wgs84"
    kind: str | None = None


@dataclass(frozen=True)
class GridSpec:
    """The analysis grid (``[grid]``).

    Attributes
    ----------
    cell_size_m
        Cell edge in metres.
    extent
        ``"candidates"``, a layer name, or a bbox ``(west, south, east, north)`` in EPSG:4326.
    where
        Filter on the extent layer (e.g. only Beijing's districts).
    buffer_m
        Margin around the extent.
    mask
        Mask the grid to the extent layer's polygons.
    """

    cell_size_m: float = 100.0
    extent: str | tuple[float, float, float, float] = "candidates"
    where: Mapping[str, Any] | None = None
    buffer_m: float = 2000.0
    mask: bool = True


@dataclass(frozen=True)
class SensitivitySpec:
    """Monte Carlo and one-at-a-time settings (``[sensitivity]``)."""

    enabled: bool = True
    draws: int = 1000
    concentration: float = 100.0
    top_k: int = 5


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked suitability scenario.

    Attributes
    ----------
    name, description
        Labels for outputs.
    criteria, constraints
        The criteria (with weights, or weights from ``ahp_matrix``) and hard constraints.
    candidates
        Layer name of the candidate sites.
    candidates_where
        Filter on the candidates (column -> allowed values).
    id_column, label_column
        Identifier column (tie-break key) and optional human label column.
    grid, sensitivity
        Grid and sensitivity settings.
    weights_method
        ``"direct"`` or ``"ahp"``.
    ahp_matrix
        Pairwise matrix in criteria order (``"ahp"`` only).
    allow_inconsistent
        Accept an AHP matrix with CR > 0.10.
    layers
        Layers read from files, by name.
    seed
        Seed for the Monte Carlo analysis.
    metric_crs
        Metric CRS override (default: the atlas's).
    source, sha256
        Scenario file path and SHA-256 of its bytes (provenance).
    """

    name: str
    criteria: tuple[Criterion, ...]
    candidates: str = "factory_sites"
    candidates_where: Mapping[str, Any] | None = None
    id_column: str = "id"
    label_column: str | None = None
    constraints: tuple[Constraint, ...] = ()
    grid: GridSpec = field(default_factory=GridSpec)
    sensitivity: SensitivitySpec = field(default_factory=SensitivitySpec)
    weights_method: str = "direct"
    ahp_matrix: tuple[tuple[float, ...], ...] | None = None
    allow_inconsistent: bool = False
    layers: Mapping[str, LayerSpec] = field(default_factory=dict)
    seed: int | None = 0
    metric_crs: str | None = None
    description: str = ""
    source: str | None = None
    sha256: str | None = None


def _table(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    t = doc.get(name, {})
    if not isinstance(t, Mapping):
        msg = f"[{name}] must be a table (a [{name}] section), got {type(t).__name__}."
        raise ScenarioError(msg)
    return dict(t)


def _only(table: Mapping[str, Any], allowed: set[str], key: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}."
        raise ScenarioError(msg)


def _typed(table: Mapping[str, Any], name: str, types: tuple[type, ...], default: Any,
           key: str) -> Any:
    v = table.get(name, default)
    if v is default:
        return v
    if isinstance(v, bool) and bool not in types:
        v = "bool"  # force the error below: true/false is not a number here
    if not isinstance(v, types):
        want = " or ".join(t.__name__ for t in types)
        msg = f"{key}.{name} must be a {want}, got {table.get(name)!r}."
        raise ScenarioError(msg)
    return v


def _grid(doc: Mapping[str, Any]) -> GridSpec:
    t = _table(doc, "grid")
    _only(t, {"cell_size_m", "extent", "where", "buffer_m", "mask"}, "[grid]")
    cs = _typed(t, "cell_size_m", (int, float), 100.0, "[grid]")
    if not math.isfinite(cs) or cs <= 0:
        msg = f"[grid].cell_size_m must be > 0 metres, got {cs!r}."
        raise ScenarioError(msg)
    ext = t.get("extent", "candidates")
    if isinstance(ext, list):
        if (len(ext) != 4 or not all(isinstance(v, (int, float)) for v in ext)
                or not (ext[0] < ext[2] and ext[1] < ext[3])):
            msg = ("[grid].extent as a box must be [west, south, east, north] in degrees "
                   f"(EPSG:4326) with west < east and south < north, got {ext!r}.")
            raise ScenarioError(msg)
        ext = tuple(float(v) for v in ext)
    elif not isinstance(ext, str):
        msg = (f"[grid].extent must be 'candidates', a layer name or [west, south, east, "
               f"north], got {ext!r}.")
        raise ScenarioError(msg)
    buf = _typed(t, "buffer_m", (int, float), 2000.0, "[grid]")
    if buf < 0:
        msg = f"[grid].buffer_m must be >= 0, got {buf!r}."
        raise ScenarioError(msg)
    return GridSpec(float(cs), ext, t.get("where"), float(buf),
                    bool(_typed(t, "mask", (bool,), True, "[grid]")))


def _sensitivity(doc: Mapping[str, Any]) -> SensitivitySpec:
    t = _table(doc, "sensitivity")
    _only(t, {"enabled", "draws", "concentration", "top_k"}, "[sensitivity]")
    s = SensitivitySpec(
        enabled=_typed(t, "enabled", (bool,), True, "[sensitivity]"),
        draws=_typed(t, "draws", (int,), 1000, "[sensitivity]"),
        concentration=float(_typed(t, "concentration", (int, float), 100.0, "[sensitivity]")),
        top_k=_typed(t, "top_k", (int,), 5, "[sensitivity]"),
    )
    if s.draws < 1 or s.top_k < 1 or s.concentration <= 0:
        msg = ("[sensitivity]: draws and top_k must be >= 1 and concentration > 0, got "
               f"draws={s.draws}, top_k={s.top_k}, concentration={s.concentration}.")
        raise ScenarioError(msg)
    return s


def _layers(doc: Mapping[str, Any], base_dir: Path) -> dict[str, LayerSpec]:
    out = {}
    for name, t in _table(doc, "layers").items():
        key = f"[layers.{name}]"
        if not isinstance(t, Mapping) or "path" not in t:
            msg = f"{key} needs path = '<file>' (GeoPackage, shapefile, GeoJSON...)."
            raise ScenarioError(msg)
        _only(t, {"path", "layer", "datum", "kind"}, key)
        datum = t.get("datum", "wgs84")
        if datum not in ("wgs84", "gcj02", "bd09"):
            msg = f"{key}.datum must be 'wgs84', 'gcj02' or 'bd09', got {datum!r}."
            raise ScenarioError(msg)
        p = Path(str(t["path"])).expanduser()
        out[str(name)] = LayerSpec(p if p.is_absolute() else base_dir / p, t.get("layer"),
                                   datum, t.get("kind"))
    return out


def _criteria(doc: Mapping[str, Any], base_dir: Path) -> tuple[Criterion, ...]:
    raw = doc.get("criteria")
    if not isinstance(raw, list) or not raw:
        msg = ("the scenario has no criteria; add at least one [[criteria]] table with name, "
               "layer, measure, value and weight.")
        raise ScenarioError(msg)
    crits: list[Criterion] = []
    for i, t in enumerate(raw):
        key = f"criteria[{i}]"
        if not isinstance(t, Mapping):
            msg = f"{key} must be a table ([[criteria]])."
            raise ScenarioError(msg)
        if "name" in t:
            key = f"criteria[{i}] ({t['name']})"
        for req in ("name", "measure", "value"):
            if req not in t:
                msg = f"{key}.{req} is missing; every [[criteria]] needs name, measure, value."
                raise ScenarioError(msg)
        params = {k: v for k, v in t.items() if k not in _CRIT_KEYS}
        if t.get("measure") == "raster" and isinstance(params.get("path"), str):
            p = Path(params["path"]).expanduser()
            params["path"] = str(p if p.is_absolute() else base_dir / p)
        net = params.get("network")
        if t.get("measure") == "travel_time" and isinstance(net, str):
            p = Path(net).expanduser()
            if not p.is_absolute() and (base_dir / p).exists():
                params["network"] = str(base_dir / p)  # a file beside the scenario
            # otherwise a place name (or an absolute path) for cci_geo.network.load_graph
        crits.append(Criterion(name=t["name"], measure=t["measure"], value=t["value"],
                               layer=t.get("layer"), weight=t.get("weight"), params=params,
                               where=t.get("where"), key=key))
    names = [c.name for c in crits]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"criteria names must be unique; {dup} appear more than once."
        raise ScenarioError(msg)
    return tuple(crits)


def _constraints(doc: Mapping[str, Any], names: set[str]) -> tuple[Constraint, ...]:
    raw = doc.get("constraints", [])
    if not isinstance(raw, list):
        msg = "constraints must be an array of tables ([[constraints]])."
        raise ScenarioError(msg)
    out = []
    allowed = {"type", "name", "layer", "buffer_m", "where", "criterion", "column", "min",
               "max", "allowed", "not_allowed"}
    for i, t in enumerate(raw):
        key = f"constraints[{i}]"
        if not isinstance(t, Mapping) or "type" not in t:
            msg = f"{key} needs type = 'exclude', 'threshold' or 'site'."
            raise ScenarioError(msg)
        _only(t, allowed, key)
        c = Constraint(kind=t["type"], name=str(t.get("name", f"{t['type']}_{i}")),
                       layer=t.get("layer"), buffer_m=t.get("buffer_m", 0.0),
                       where=t.get("where"), criterion=t.get("criterion"),
                       column=t.get("column"), min=t.get("min"), max=t.get("max"),
                       allowed=t.get("allowed"), not_allowed=t.get("not_allowed"), key=key)
        if c.kind == "threshold" and c.criterion not in names:
            msg = (f"{key}.criterion = {c.criterion!r} is not a criterion of this scenario; "
                   f"use one of {sorted(names)}.")
            raise ScenarioError(msg)
        out.append(c)
    return tuple(out)


def _weights(doc: Mapping[str, Any], crits: tuple[Criterion, ...]) -> tuple[
        str, tuple[tuple[float, ...], ...] | None, bool]:
    t = _table(doc, "weights")
    _only(t, {"method", "matrix", "allow_inconsistent"}, "[weights]")
    method = t.get("method", "direct")
    allow = _typed(t, "allow_inconsistent", (bool,), False, "[weights]")
    if method == "direct":
        missing = [c.name for c in crits if c.weight is None]
        if missing:
            msg = (f"criteria {missing} have no weight; add weight = <number> to each, or set "
                   "[weights] method = 'ahp' with a pairwise matrix.")
            raise ScenarioError(msg)
        if "matrix" in t:
            msg = "[weights].matrix is only used with method = 'ahp'; remove it or set the method."
            raise ScenarioError(msg)
        return "direct", None, allow
    if method != "ahp":
        msg = f"[weights].method must be 'direct' or 'ahp', got {method!r}."
        raise ScenarioError(msg)
    m = t.get("matrix")
    n = len(crits)
    if (not isinstance(m, list) or len(m) != n
            or not all(isinstance(r, list) and len(r) == n for r in m)):
        msg = (f"[weights].matrix must be {n} x {n} (one row and column per criterion, in the "
               f"order {[c.name for c in crits]}).")
        raise ScenarioError(msg)
    given = [c.name for c in crits if c.weight is not None]
    if given:
        msg = f"criteria {given} give a weight although [weights] method = 'ahp'; remove them."
        raise ScenarioError(msg)
    try:
        mat = tuple(tuple(float(v) for v in r) for r in m)
    except (TypeError, ValueError) as exc:
        msg = f"[weights].matrix must hold numbers only ({exc})."
        raise ScenarioError(msg) from exc
    return "ahp", mat, allow


def parse_scenario(doc: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None,
                   source: str | None = None, sha256: str | None = None) -> Scenario:
    """Check a scenario given as a mapping (e.g. parsed TOML) and return a :class:`Scenario`.

    Parameters
    ----------
    doc
        The scenario document.
    base_dir
        Folder that relative file paths are resolved against (default: working directory).
    source, sha256
        Provenance: where the document came from and the SHA-256 of its bytes. Computed from
        a canonical JSON dump of ``doc`` when not given.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Naming the key and the fix.

    Examples
    --------
    >>> sc = parse_scenario({"candidates": {"layer": "factory_sites"},
    ...                      "criteria": [{"name": "floor", "measure": "site_attribute",
    ...                                      "column": "floor_area_m2", "weight": 1.0,
    ...                                      "value": {"function": "linear", "low": 0,
    ...                                                "high": 10000}}]})
    >>> sc.criteria[0].name, sc.candidates
    ('floor', 'factory_sites')
    """
    if not isinstance(doc, Mapping):
        msg = f"a scenario must be a mapping (parsed TOML), got {type(doc).__name__}."
        raise ScenarioError(msg)
    _only(doc, _TOP, "scenario file")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    head = _table(doc, "scenario")
    _only(head, {"name", "description", "seed", "metric_crs"}, "[scenario]")
    cand = _table(doc, "candidates")
    _only(cand, {"layer", "where", "id_column", "label_column"}, "[candidates]")
    if "layer" not in cand:
        msg = ("[candidates].layer is missing; name the layer of candidate sites, e.g. "
               "'factory_sites'.")
        raise ScenarioError(msg)
    crits = _criteria(doc, base)
    method, matrix, allow = _weights(doc, crits)
    seed = head.get("seed", 0)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        msg = f"[scenario].seed must be a whole number from 0 to 2**63-1, got {seed!r}."
        raise ScenarioError(msg)
    if sha256 is None:
        sha256 = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    return Scenario(
        name=str(head.get("name", "suitability")), description=str(head.get("description", "")),
        criteria=crits, candidates=str(cand["layer"]), candidates_where=cand.get("where"),
        id_column=str(cand.get("id_column", "id")), label_column=cand.get("label_column"),
        constraints=_constraints(doc, {c.name for c in crits}), grid=_grid(doc),
        sensitivity=_sensitivity(doc), weights_method=method, ahp_matrix=matrix,
        allow_inconsistent=bool(allow), layers=_layers(doc, base), seed=seed,
        metric_crs=head.get("metric_crs"), source=source, sha256=sha256,
    )


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a TOML scenario file.

    Relative paths inside it (layers, rasters) are resolved against the file's folder.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    Scenario

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ScenarioError
        If the TOML is malformed or a key is invalid (the message names it and the fix).

    Examples
    --------
    >>> from cci_geo._resources import resource_path
    >>> sc = load_scenario(resource_path("scenarios/old_factory_reuse.toml"))
    >>> sc.candidates, len(sc.criteria) > 3
    ('factory_sites', True)
    """
    p = Path(path)
    data = p.read_bytes()
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))  # a byte-order mark is no TOML error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{p} is not valid TOML: {exc}"
        raise ScenarioError(msg) from exc
    return parse_scenario(doc, base_dir=p.resolve().parent, source=str(p),
                          sha256=hashlib.sha256(data).hexdigest())

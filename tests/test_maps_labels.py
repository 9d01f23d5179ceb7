"""Every visible word of every renderer exists in Chinese and English.

Walks the layers drawn for the demo atlas and every briefing result (plus LISA, grid counts
and corridor membership) in both languages and fails on an untranslated label (``"cells"`` on
a Chinese map), a mixed one (``"省级 Beijing"``), Chinese on an English map, a raw 0-1 ratio
(``0.08353``) where a percentage belongs, or an internal id (``"r123c84"``) as a tooltip.
Free-text columns written by people (a site's former use, a city's role) are exempt.
"""

from __future__ import annotations

import re

import pytest

import cci_geo
from cci_geo import concentration as cc
from cci_geo import corridors as co
from cci_geo.maps import briefing_layers
from cci_geo.maps.layers import PointLayer, VectorLayer
from cci_geo.workflows import plan_briefing, run_plan

CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}")
#: Latin words a Chinese label may carry: method names, units, acronyms.
ZH_LATIN_OK = {"Gi", "LISA", "DBSCAN", "km", "ID", "LQ", "SYNTHETIC", "Vintage", "PARK",
               "HH", "LL", "HL", "LH", "fdr"}
#: Columns of free text written by people, shown as given.
FREE_TEXT = {"name_zh", "name_en", "name", "role", "former_use", "lines", "lines_en", "ref",
             "_name"}
INTERNAL_ID = re.compile(r"r\d+c\d+|cell_\d+_\d+.*|osm\d+")


@pytest.fixture(scope="module")
def layers_by_lang():
    atlas = cci_geo.load_demo()
    results = list(run_plan(plan_briefing(atlas)).results)
    ent = atlas["enterprises"]
    bj = atlas["districts"][atlas["districts"]["adcode"].astype(str).str.startswith("11")]
    grid = cc.grid_counts(ent, 2000.0, region=bj)
    results += [grid, cc.local_morans(grid, "count", seed=0, permutations=99)]
    axes = co.corridors_from_lines(atlas["corridors"])
    zones = co.corridor_zones(axes, width_km=20.0, region=atlas["districts"])
    results.append(co.membership(zones, atlas["nodes"], corridors=axes))
    return {lang: briefing_layers(atlas, *results, lang=lang) for lang in ("zh", "en")}


def _problems(layers, lang):
    out = []

    def check(where, text):
        if text is None or str(text) == "":
            return
        text = str(text)
        words = [w for w in WORD.findall(text) if w not in ZH_LATIN_OK]
        if lang == "zh" and words:
            kind = "mixed" if CJK.search(text) else "untranslated"
            out.append(f"{kind} {where}: {text!r}")
        if lang == "en" and CJK.search(text):
            out.append(f"Chinese on the English map, {where}: {text!r}")

    for layer in layers:
        check("layer name", layer.name)
        if layer.legend is not None:
            lg = layer.legend
            for text in (lg.title, lg.units, lg.note, *(i.label for i in lg.items)):
                check(f"legend of {layer.name}", text)
        if isinstance(layer, PointLayer):
            for lab, _values in layer.fields:
                check(f"field of {layer.name}", lab)
        if not isinstance(layer, VectorLayer):
            continue
        for col, lab in layer.fields:
            check(f"field {col} of {layer.name}", lab)
            if col in FREE_TEXT:
                continue
            for value in layer.gdf[col].dropna().astype(str).unique()[:200]:
                if re.fullmatch(r"-?0\.\d{4,}", value) and "share" in col:
                    out.append(f"raw ratio in {col} of {layer.name}: {value}")
                elif INTERNAL_ID.fullmatch(value):
                    out.append(f"internal id in {col} of {layer.name}: {value}")
                elif not re.fullmatch(r"[-+0-9.,%e ]+", value):
                    check(f"value of {col} in {layer.name}", value)
        if layer.title_column and layer.title_column in layer.gdf:
            titles = layer.gdf[layer.title_column].astype(str)
            bad = titles[titles.str.fullmatch(INTERNAL_ID.pattern)]
            if len(bad):
                out.append(f"internal id as tooltip of {layer.name}: {bad.iloc[0]}")
    return list(dict.fromkeys(out))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_label_is_in_the_maps_language(layers_by_lang, lang):
    problems = _problems(layers_by_lang[lang], lang)
    assert not problems, "\n".join(problems[:40])


def test_the_walk_covers_the_briefing(layers_by_lang):
    keys = {layer.key for layer in layers_by_lang["zh"]}
    for kind in ("districts", "enterprises", "zones", "factory_sites", "stations",
                 "kernel_density", "hot_spots", "location_quotient", "designation_gap_clusters",
                 "access_by_district", "suitability", "coverage", "selected_sites",
                 "corridor_zones", "local_morans", "grid_counts",
                 "corridor_membership"):
        assert kind in keys, kind


def test_checker_catches_the_issues_examples():
    import geopandas as gpd
    from shapely.geometry import Point

    from cci_geo.maps.layers import Legend, LegendItem

    gdf = gpd.GeoDataFrame({"province": ["省级 Beijing"], "share_x": ["0.08353"],
                            "_name": ["r123c84"]}, geometry=[Point(116.4, 39.9)], crs=4326)
    layer = VectorLayer("cells", gdf, fields=(("province", "省级"), ("share_x", "占比")),
                        title_column="_name",
                        legend=Legend("密度", items=(LegendItem("#000", "points per km²"),)))
    found = "\n".join(_problems([layer], "zh"))
    for text in ("untranslated layer name", "mixed value of province", "raw ratio",
                 "internal id as tooltip", "legend of cells"):
        assert text in found


# --- the data-sources panel, the attribution and the workflow's notes ----------------------

#: Latin a Chinese credit or note may carry: the licensor's own credit line (kept as the
#: licence asks), code a planner types (quoted names, ``read_layer(...)``, ``layer.column``),
#: standards and the package's name.
_KEPT = re.compile(r"©[^；;]*?contributors(?: \([^)]*\))?|cci_geo[ .0-9a-z_]*(?:\([^)]*\))?|"
                   r"'[^']*'|\[[^\]]*\]|\b[a-z_]+\.[a-z_]+\b|\b[a-z]+_[a-z_]+\b|GCJ-02|WGS-84|"
                   r"KeyError[^；]*|\bk=")


def _wrong_language(text: str, lang: str) -> bool:
    if lang == "en":
        return bool(CJK.search(text))
    return any(w not in ZH_LATIN_OK for w in WORD.findall(_KEPT.sub("", text)))


@pytest.fixture(scope="module")
def panel_texts():
    """Per language: attribution lines, the panel's layer/status cells and headings, notes."""
    import dataclasses

    from _atlases import zones_enterprises_atlas

    from cci_geo.maps.basemaps import get_basemap
    from cci_geo.maps.briefing import _attribution, _sources_table
    from cci_geo.workflows import BriefingConfig
    from cci_geo.workflows.derive import derive_columns

    demo = cci_geo.load_demo()
    _, derived = derive_columns(demo, [("zones", "district")])
    out = {}
    for lang in ("zh", "en"):
        cfg = BriefingConfig(lang=lang, steps=("concentration", "accessibility", "monitoring"))
        demo_run = run_plan(plan_briefing(demo, cfg))
        small = zones_enterprises_atlas(demo)  # skipped steps, notes of what was left out
        small_run = run_plan(plan_briefing(small, BriefingConfig(lang=lang)))
        steps = [dataclasses.replace(p, derived=tuple(derived)) if p.status == "run" else p
                 for p in small_run.plan.steps]
        small_run.plan = dataclasses.replace(small_run.plan, steps=steps)
        texts = list(_attribution(demo, lang, get_basemap("gaode"), demo_run.results))
        for row in _sources_table(demo, lang, demo_run.results):
            texts += [row[0], row[4]]
        texts += demo_run.notes(lang) + small_run.notes(lang)
        out[lang] = (texts, small_run)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sources_panel_and_notes_are_in_the_maps_language(panel_texts, lang):
    texts, run = panel_texts[lang]
    assert any("40.1" in t for t in texts)  # the metro coverage gap is there
    assert {o.status for o in run.outcomes} >= {"ran", "skipped"}
    notes = run.notes(lang)
    assert len(notes) >= 3 and any("district" in n for n in notes)
    bad = [t for t in texts if _wrong_language(t, lang)]
    assert not bad, "\n".join(bad)


def test_panel_checker_catches_english_on_a_chinese_map():
    assert _wrong_language("accessibility: skipped: needs the 'venues' layer", "zh")
    assert _wrong_language("地铁：no stations north of 40.1° N", "zh")
    assert not _wrong_language("地铁：© OpenStreetMap contributors (ODbL 1.0)；北纬 40.1°", "zh")
    assert _wrong_language("Venue accessibility：未运行", "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_units_without_neighbours_have_their_own_legend_class(lang):
    import geopandas as gpd
    from shapely.geometry import box

    from cci_geo.maps.render_results import render_hot_spots, render_lisa

    cells = gpd.GeoDataFrame(
        {"gi_class": ["hot spot 99%", "not significant", "no neighbours"],
         "gi_z": [3.0, 0.1, float("nan")], "gi_p": [0.001, 0.9, float("nan")],
         "lisa_class": ["high-high", "not significant", "no neighbours"],
         "lisa_p": [0.01, 0.5, float("nan")]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], crs="EPSG:32650")
    want = {"zh": "无相邻单元（未检验）", "en": "No neighbours (not tested)"}[lang]
    for render in (render_hot_spots, render_lisa):
        (layer,) = render(cells, lang=lang)
        labels = [item.label for item in layer.legend.items]
        assert want in labels, (render.__name__, labels)
        assert len(labels) == 3  # the island is neither "not significant" nor "other"

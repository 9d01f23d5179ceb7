"""The workflow layer: declared steps, the plan, the briefing config, loud failures.

The all-steps briefings run here (not marked slow): on the demo and on three planners' own
atlases built in code (tests/_atlases.py).
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
from _atlases import SHANGHAI_BBOX, no_district_atlas, shanghai_atlas, zones_enterprises_atlas

import cci_geo
from cci_geo.cli.main import main
from cci_geo.errors import ParameterError, ScenarioError
from cci_geo.workflows import (
    BriefingConfig,
    Need,
    Step,
    StepFailedError,
    default_config_text,
    get_step,
    load_config,
    plan_briefing,
    register_step,
    registered_steps,
    run_briefing,
    run_plan,
    steps,
    write_config,
)

PACKAGE = Path(cci_geo.__file__).resolve().parent
ANALYSES = ("concentration", "network", "access", "suitability", "layout", "corridors",
            "monitoring")
BRIEFING_STEPS = ["concentration", "accessibility", "suitability", "layout", "corridors",
                  "monitoring"]


# --- import rules ------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Absolute names of every module imported by ``path`` (lazy imports included)."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
                if node.module is None:
                    out.update(f"{mod}.{alias.name}" for alias in node.names)
                else:
                    out.add(mod)
            else:
                out.add(node.module or "")
    return out


def _modules(*packages: str) -> list[Path]:
    files: list[Path] = []
    for name in packages:
        p = PACKAGE / name
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")]
    return [f for f in files if f.exists()]


def test_import_rules_analyses_maps_workflows():
    analyses = _modules(*ANALYSES)
    assert len(analyses) > 20
    for path in analyses:
        bad = {m for m in _imports(path)
               if m.startswith(("cci_geo.workflows", "cci_geo.maps", "cci_geo.cli"))}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
    maps = _modules("maps")
    assert len(maps) > 10
    for path in maps:
        bad = {m for m in _imports(path)
               if any(m == f"cci_geo.{a}" or m.startswith(f"cci_geo.{a}.") for a in ANALYSES)
               or m.startswith(("cci_geo.workflows", "cci_geo.cli"))}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
    for path in _modules("workflows"):
        assert not {m for m in _imports(path) if m.startswith("cci_geo.cli")}, path


def test_import_rule_checker_sees_relative_and_lazy_imports(tmp_path):
    # the checker must not pass vacuously: it resolves the forms used in the package
    path = PACKAGE / "workflows" / "briefing_steps.py"
    found = _imports(path)
    assert {"cci_geo.maps.sources", "cci_geo.concentration", "cci_geo.layout"} <= found


# --- declared steps ----------------------------------------------------------------------


def test_steps_are_declared_with_todays_defaults():
    assert list(registered_steps())[:6] == BRIEFING_STEPS
    assert get_step("concentration").params["kde_cell_size_m"] == 250.0
    assert get_step("concentration").params["eps_m"] == 400.0
    assert get_step("concentration").params["min_samples"] == 25
    assert get_step("layout").params["k"] == 6
    assert get_step("corridors").params == {"width_km": 20.0, "beta": 2.0, "top_n": 30,
                                            "exclude_province": ""}
    for step in registered_steps().values():
        assert step.summary, step.name
        assert set(step.param_help) == set(step.params), step.name
    with pytest.raises(ParameterError, match="no workflow step named 'nope'"):
        get_step("nope")


def test_a_new_step_is_one_registration(monkeypatch, demo):
    monkeypatch.setattr(steps, "_REGISTRY", dict(steps._REGISTRY))
    seen = {}

    def count(ctx):
        seen["n"] = len(ctx.atlas["enterprises"])
        seen["window"] = ctx.params["window_years"]
        return []

    register_step(Step("trend_example", run=count, needs=(Need("enterprises", ("founded",)),),
                       params={"window_years": 5}, param_help={"window_years": "years"},
                       summary="change over time"))
    assert "[steps.trend_example]" in default_config_text()
    cfg = BriefingConfig(steps=("trend_example",),
                         params={"trend_example": {"window_years": 3}})
    run = run_plan(plan_briefing(demo, cfg))
    assert seen == {"n": 20000, "window": 3}
    assert [o.status for o in run.outcomes] == ["off"] * 6 + ["ran"]


# --- the plan ----------------------------------------------------------------------------


def test_plan_says_why_before_any_work(demo, monkeypatch):
    atlas = cci_geo.Atlas({"enterprises": demo["enterprises"]},
                          {"enterprises": demo.provenance["enterprises"]}, name="Firms")

    def boom(ctx):  # pragma: no cover - must never be called
        raise AssertionError("planning ran a step")

    monkeypatch.setattr(steps, "_REGISTRY", {
        name: (Step(s.name, run=boom, needs=s.needs, params=s.params, summary=s.summary,
                    param_help=s.param_help, uses=s.uses, needs_for=s.needs_for))
        for name, s in steps._REGISTRY.items()})
    plan = plan_briefing(atlas)
    status = {s.name: (s.status, s.reason) for s in plan.steps}
    assert status["concentration"] == ("run", "")
    assert status["accessibility"][0] == "skip"
    assert "needs the 'venues' layer" in status["accessibility"][1]
    assert "read_layer(path, 'venues')" in status["accessibility"][1]
    assert "needs the 'corridors' layer" in status["corridors"][1]
    table = plan.table()
    assert table.splitlines()[0].split() == ["step", "status", "details"]
    assert "without the designation gap" in table
    # a column named by a parameter is checked only when the parameter is set
    atlas2 = cci_geo.Atlas({"enterprises": demo["enterprises"], "venues": demo["venues"]},
                           name="x")
    assert plan_briefing(atlas2).steps[1].status == "run"
    cfg = BriefingConfig(params={"accessibility": {"demand_weight": "staff"}})
    acc = plan_briefing(atlas2, cfg).steps[1]
    assert acc.status == "skip"
    assert "needs column 'staff' of the 'enterprises' layer" in acc.reason
    assert "[steps.accessibility]" in acc.reason
    cfg = BriefingConfig(params={"accessibility": {"demand_weight": ""}})
    assert plan_briefing(atlas2, cfg).steps[1].status == "run"


def test_plan_derives_district_and_study_region(demo):
    atlas = no_district_atlas(demo, n=500)
    plan = plan_briefing(atlas)
    layout = next(s for s in plan.steps if s.name == "layout")
    assert layout.status == "run"
    assert layout.derived == ("enterprises.district derived by spatial join with the districts "
                              "layer",)
    assert "district" in plan.atlas["enterprises"].columns
    assert "district" not in atlas["enterprises"].columns  # the input is untouched
    prov = plan.atlas.provenance["enterprises"]
    assert prov["status"] == atlas.provenance["enterprises"]["status"] == "synthetic"
    assert "enterprises.district derived by spatial join" in prov["notes"]
    derived = plan.atlas["enterprises"]["district"]
    assert derived.notna().all() and derived.str.startswith("11").all()
    assert plan.region.attrs["derived_from"] == "districts holding the data"
    # without districts, the study region is the data's own extent
    a = zones_enterprises_atlas(demo, n=300)
    plan_a = plan_briefing(a)
    assert plan_a.region.attrs["derived_from"] == "extent of the data"
    w, s, e, n = plan_a.view
    bw, bs, be, bn = a["enterprises"].total_bounds
    assert w <= bw < be <= e and s <= bs < bn <= n
    assert (e - w) < 0.5 and (n - s) < 0.5  # Chaoyang, not all of Beijing


# --- config ------------------------------------------------------------------------------


def test_write_config_round_trips_to_the_defaults(tmp_path):
    path = write_config(tmp_path / "briefing.toml")
    text = path.read_text(encoding="utf-8")
    assert text.count("[steps.") == len(registered_steps())
    assert "# cell of the kernel density surface, metres" in text
    cfg = load_config(path)
    assert cfg.title is None and cfg.view is None and cfg.lang == "zh"
    for name, step in registered_steps().items():
        assert cfg.step_params(name) == dict(step.params), name
    assert cfg.step_names() == list(registered_steps())
    from cci_geo.maps.briefing import BRIEFING_VISIBLE

    assert set(cfg.visible or ()) == BRIEFING_VISIBLE
    with pytest.raises(FileExistsError):
        write_config(path)
    assert tomllib.loads(text)["briefing"]["basemap"] == "none"


@pytest.mark.parametrize(("body", "match"), [
    ("[briefing]\ncolour = 1\n", "unknown key"),
    ("[map]\n", "unknown section"),
    ("[steps.layout]\nkk = 3\n", "has no parameter 'kk'"),
    ("[steps.layout]\nk = \"six\"\n", "expected a int"),
    ("[steps.layout]\nk = 2.5\n", "whole number"),
    ("[steps.nowhere]\n", "unknown step 'nowhere'"),
    ("[briefing]\nsteps = [\"layout\", \"nope\"]\n", "unknown step 'nope'"),
    ("[briefing]\nview = [117, 39, 116, 40]\n", "west < east"),
    ("[briefing]\nlang = \"fr\"\n", "lang"),
    ("[briefing\n", "not valid TOML"),
])
def test_config_errors_name_the_key(tmp_path, body, match):
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError, match=match):
        load_config(path)


def test_scenario_paths_resolve_against_the_config_file(tmp_path, monkeypatch, demo):
    from cci_geo.workflows.briefing_steps import suitability_scenario

    bundled = suitability_scenario({"scenario": ""}, None)
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "mine.toml").write_text(bundled.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "briefing.toml").write_text(
        '[briefing]\nsteps = ["suitability"]\n[steps.suitability]\nscenario = "mine.toml"\n',
        encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "scenarios").mkdir(parents=True)
    (elsewhere / "scenarios" / "old_factory_reuse.toml").write_text("broken [", encoding="utf-8")
    (elsewhere / "mine.toml").write_text("broken [", encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # the working directory is never looked at
    cfg = load_config(folder / "briefing.toml")
    assert suitability_scenario(cfg.step_params("suitability"), cfg.base_dir) == \
        folder / "mine.toml"
    assert plan_briefing(demo, cfg).to_run == ["suitability"]
    assert suitability_scenario({"scenario": ""}, None) == bundled
    (folder / "briefing.toml").write_text(
        '[steps.suitability]\nscenario = "missing.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="missing.toml does not exist"):
        plan_briefing(demo, load_config(folder / "briefing.toml"))


# --- all steps, on the demo and on planners' own atlases ---------------------------------


def _check_run(run, plan):
    """Every planned step ran or was skipped with its stated reason; nothing failed."""
    assert not run.failed, run.summary()
    for planned, outcome in zip(plan.steps, run.outcomes, strict=True):
        assert planned.name == outcome.name
        expected = {"run": "ran", "skip": "skipped", "off": "off"}[planned.status]
        assert outcome.status == expected, (planned, outcome)
        if planned.status == "run":
            assert outcome.results > 0, outcome
        else:
            assert outcome.detail == planned.reason and planned.reason


def _check_printed(printed: str, plan) -> None:
    """The CLI's summary says, for every planned step, that it ran or why it was skipped."""
    for planned in plan.steps:
        if planned.status == "run":
            assert re.search(rf"^{planned.name}\s+ran\s+[1-9]\d* result", printed, re.M), \
                planned.name
        else:
            expected = {"skip": "skipped", "off": "off"}[planned.status]
            line = next(line for line in printed.splitlines()
                        if re.match(rf"{planned.name}\s+{expected}\s", line))
            assert planned.reason in line
    assert "failed" not in printed


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _title(html: str) -> str:
    m = re.search(r'cciGeo\.title\([^,]+, ("(?:[^"\\]|\\.)*")', html)
    assert m, "no title on the map"
    import json

    return json.loads(m.group(1))


def _fit_bounds(html: str) -> list[list[float]]:
    m = re.search(r"\.fitBounds\(\s*(\[\[[-\d.]+, [-\d.]+\], \[[-\d.]+, [-\d.]+\]\])", html)
    assert m, "no first view"
    import json

    return json.loads(m.group(1))


def test_demo_briefing_runs_every_step(demo, tmp_path):
    out = tmp_path / "demo.html"
    plan = plan_briefing(demo)
    assert plan.to_run == BRIEFING_STEPS
    run = run_briefing(demo, out, plan=plan)
    _check_run(run, plan)
    html = _html(out)
    for name in ("企业核密度", "热点分析 (Gi*)", "集聚与认定差距", "选址适宜性", "布局优化",
                 "廊道带", "新兴热点分析（合成数据）", "园区计分卡"):
        assert name in html, name
    assert _title(html) == demo.display_name("zh") == "北京文化创意产业示例图集"
    (s, w), (n, e) = _fit_bounds(html)
    assert 115.3 < w < 115.6 and 117.3 < e < 117.6 and 39.3 < s < 39.6 and 40.9 < n < 41.2
    _check_target_card(html, run, tmp_path)


def _check_target_card(html: str, run, tmp_path: Path) -> None:
    """The monitoring step's card lists PT21-PT24 in Chinese (the briefing) and in English."""
    from cci_geo.maps import briefing_map, save_html
    from cci_geo.results import result_kind

    assert "政策目标进展（2025 年）（合成数据）" in html
    for zh in ("年营收超千亿元的文创企业：", "年营收超五百亿元的文创企业：",
               "品牌、创新或规模突出的文创企业：", "当年获支持的创新型中小企业："):
        assert zh in html, zh
    assert "2023 年达到 5 家以上" in html and "每年 200 家" in html
    cards = [r for r in run.results if result_kind(r) == "target_card"]
    assert len(cards) == 1 and list(cards[0]["target_id"]) == ["PT21", "PT22", "PT23", "PT24"]
    en = save_html(briefing_map(cci_geo.Atlas({}, {}), cards[0], lang="en"), tmp_path / "en.html")
    text = _html(en)
    assert "Policy target progress, 2025 (synthetic data)" in text
    for tid, en_name in (("PT21", "Enterprises with revenue over 100 billion yuan"),
                         ("PT22", "Enterprises with revenue over 50 billion yuan"),
                         ("PT23", "Enterprises with superior brands, innovation or scale"),
                         ("PT24", "Innovative SMEs supported in the year")):
        assert f"{tid} {en_name}: " in text, tid
    assert "(target 5 or more by 2023)" in text and "(target 200 per year)" in text


def test_zones_and_enterprises_only(demo, tmp_path, capsys):
    atlas = zones_enterprises_atlas(demo)
    gpkg = atlas.to_gpkg(tmp_path / "chaoyang.gpkg")
    out = tmp_path / "a.html"
    assert main(["briefing", "--atlas", str(gpkg), "--out", str(out), "--lang", "en"]) == 0
    loaded = cci_geo.Atlas.from_gpkg(gpkg)
    plan = plan_briefing(loaded, BriefingConfig(lang="en"))
    assert plan.to_run == ["concentration"]
    _check_printed(capsys.readouterr().out, plan)
    html = _html(out)
    assert _title(html) == "朝阳区文创园区调查"
    assert "Enterprise density" in html and "Hot spots (Gi*)" in html
    assert re.search(r"accessibility: skipped: needs the (\\u0027|')venues", html)
    assert "SYNTHETIC" not in html and "synthetic enterprises" not in html
    (s, w), (n, e) = _fit_bounds(html)
    assert e - w < 0.5 and n - s < 0.5  # the planner's data, not all of Beijing


def test_enterprises_without_district(demo, tmp_path, capsys):
    atlas = no_district_atlas(demo)
    gpkg = atlas.to_gpkg(tmp_path / "haidian.gpkg")
    out = tmp_path / "b.html"
    assert main(["briefing", "--atlas", str(gpkg), "--out", str(out),
                 "--title", "Haidian briefing"]) == 0
    printed = capsys.readouterr().out
    assert "enterprises.district derived by spatial join" in printed
    plan = plan_briefing(cci_geo.Atlas.from_gpkg(gpkg))
    assert plan.to_run == BRIEFING_STEPS
    _check_printed(printed, plan)
    html = _html(out)
    assert _title(html) == "Haidian briefing"
    # the map is in Chinese (the default), its notes too; the printed summary stays English
    assert "布局优化：enterprises.district 由与行政区图层的空间连接得出" in html


def test_shanghai_atlas_without_corridors(tmp_path, capsys):
    atlas = shanghai_atlas()
    gpkg = atlas.to_gpkg(tmp_path / "shanghai.gpkg")
    out = tmp_path / "c.html"
    cfg = tmp_path / "cfg" / "briefing.toml"
    write_config(cfg)
    assert main(["briefing", "--atlas", str(gpkg), "--config", str(cfg), "--out", str(out)]) == 0
    loaded = cci_geo.Atlas.from_gpkg(gpkg)
    assert loaded.metric_crs == "EPSG:32651" and tuple(loaded.region) == SHANGHAI_BBOX
    plan = plan_briefing(loaded, load_config(cfg))
    _check_printed(capsys.readouterr().out, plan)
    status = {s.name: s for s in plan.steps}
    assert status["corridors"].status == "skip"
    assert "needs the 'corridors' layer" in status["corridors"].reason
    assert status["suitability"].status == "skip"  # the bundled scenario reads functional areas
    assert "'functional_areas'" in status["suitability"].reason
    assert {"concentration", "accessibility", "layout"} <= set(plan.to_run)
    run = run_plan(plan)
    _check_run(run, plan)
    from cci_geo.results import result_kind

    density = next(r for r in run.results if result_kind(r) == "kernel_density")
    assert density.crs.to_epsg() == 32651  # measured in the atlas's own metric CRS
    html = _html(out)
    assert _title(html) == "上海市文化创意产业"
    assert "北京" not in html and "Beijing" not in html
    (s, w), (n, e) = _fit_bounds(html)
    west, south, east, north = SHANGHAI_BBOX
    assert west < w < e < east and south < s < n < north


def test_accessibility_adds_metro_access_when_the_atlas_has_stations(demo):
    from cci_geo.results import result_kind

    assert get_step("accessibility").params["station_walk_m"] == 800.0
    cfg = BriefingConfig(steps=("accessibility",))
    run = run_plan(plan_briefing(demo, cfg))
    summary = next(r for r in run.results if result_kind(r) == "access_by_district")
    share = summary["share_near_metro"].dropna()
    assert len(share) and share.between(0, 1).all() and share.max() > 0
    # a shorter walk reaches no more employees than the default
    short = BriefingConfig(steps=("accessibility",),
                           params={"accessibility": {"station_walk_m": 200.0}})
    run200 = run_plan(plan_briefing(demo, short))
    near200 = next(r for r in run200.results if result_kind(r) == "access_by_district")
    assert (near200["share_near_metro"].fillna(0) <= summary["share_near_metro"].fillna(0)
            + 1e-12).all()
    assert near200["share_near_metro"].sum() < summary["share_near_metro"].sum()
    # without stations the step still runs, without the metro columns
    layers = {k: demo[k] for k in demo.layers if k not in ("stations", "station_entrances")}
    bare = cci_geo.Atlas(layers, {k: demo.provenance[k] for k in layers}, name="no metro")
    plan = plan_briefing(bare, cfg)
    assert plan.to_run == ["accessibility"]
    run = run_plan(plan)
    summary = next(r for r in run.results if result_kind(r) == "access_by_district")
    assert "share_near_metro" not in summary.columns and summary["access_mean"].notna().any()


# --- loud failures -----------------------------------------------------------------------


def _broken(monkeypatch):
    def fail(ctx):
        raise KeyError("no such column 'nowhere'")

    monkeypatch.setattr(steps, "_REGISTRY", dict(steps._REGISTRY))
    register_step(Step("layout", run=fail, needs=get_step("layout").needs,
                       params=get_step("layout").params), replace=True)


def test_a_failing_step_stops_the_run(demo, monkeypatch, tmp_path, capsys):
    _broken(monkeypatch)
    cfg = BriefingConfig(steps=("accessibility", "layout"))
    with pytest.raises(StepFailedError, match="briefing step 'layout' failed: KeyError") as err:
        run_briefing(demo, tmp_path / "x.html", config=cfg)
    assert isinstance(err.value.__cause__, KeyError)
    assert not (tmp_path / "x.html").exists()
    # the CLI exits non-zero with the step and its error on one line
    conf = tmp_path / "c.toml"
    conf.write_text('[briefing]\nsteps = ["accessibility", "layout"]\n', encoding="utf-8")
    out = tmp_path / "cli.html"
    assert main(["briefing", "--config", str(conf), "--out", str(out)]) == 1
    err_text = capsys.readouterr().err
    assert "briefing step 'layout' failed: KeyError" in err_text
    assert not out.exists()
    # --keep-going: the map is written and lists the failure; the summary too; exit 1
    assert main(["briefing", "--config", str(conf), "--out", str(out), "--keep-going",
                 "--lang", "en"]) == 1
    captured = capsys.readouterr()
    assert re.search(r"layout\s+failed\s+KeyError", captured.out)
    assert re.search(r"accessibility\s+ran\s+1 result", captured.out)
    assert "step(s) failed: layout" in captured.err
    assert "layout: FAILED: KeyError" in _html(out)


def test_readme_config_example_loads(tmp_path):
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[briefing\]\n.*?)```", readme, re.S)
    assert block, "README has no briefing config example"
    path = tmp_path / "briefing.toml"
    path.write_text(block.group(1), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.step_names() == ["concentration", "accessibility", "layout"]
    assert cfg.step_params("layout")["k"] == 4
    assert cfg.view == (121.3, 31.1, 121.7, 31.4)


def test_cooperation_candidates_lie_outside_the_study_regions_province(demo):
    from cci_geo.maps import result_type

    def candidates(**params):
        cfg = BriefingConfig(steps=("corridors",), params={"corridors": params})
        run = run_plan(plan_briefing(demo, cfg))
        return next(r for r in run.results if result_type(r) == "cooperation_candidates")

    # the demo's factory sites all lie in Beijing, the province of its study region
    assert len(candidates()) == 0
    kept = candidates(exclude_province="none")
    assert len(kept) > 0
    assert len(candidates(exclude_province="Tianjin")) == len(kept)


def test_layout_runs_on_an_atlas_without_zones(tmp_path):
    """A city planning its first zones: the layout step runs, every zone it proposes is new."""
    from cci_geo.results import result_kind

    sh = shanghai_atlas()
    atlas = cci_geo.Atlas({k: sh[k] for k in sh if k != "zones"}, sh.provenance,
                          name=sh.name, metric_crs=sh.metric_crs, region=sh.region)
    plan = plan_briefing(atlas, BriefingConfig(steps=("layout",), params={"layout": {"k": 3}}))
    step = next(s for s in plan.steps if s.name == "layout")  # the others are "off"
    assert step.status == "run" and plan.to_run == ["layout"]
    assert "existing zones to keep (every zone is new)" in step.without
    run = run_plan(plan)
    _check_run(run, plan)
    sites = next(r for r in run.results if result_kind(r) == "selected_sites")
    assert len(sites) == 3 and not sites["fixed"].any()

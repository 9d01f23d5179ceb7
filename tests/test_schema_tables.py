"""Tables without geometry: the ``enterprise_years`` kind, its checks and the atlas round trip."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from cci_geo import SchemaError
from cci_geo.atlas import Atlas
from cci_geo.schema import validate, validate_table


def _enterprises() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["E1", "E2"], "sector": ["design", "media"], "revenue_cny": [1e6, 2e6],
         "employees": [5, 9], "founded": [2015, 2010], "closed": [pd.NA, 2020]},
        geometry=[Point(116.40, 39.90), Point(116.45, 39.95)], crs="EPSG:4326")


def _obs() -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": ["E1", "E2", "E1", "E2"],
                         "year": [2016, 2019, 2015, 2018],
                         "revenue_cny": [1.1e6, 2.0e6, 1.0e6, 1.9e6],
                         "employees": [5, 9, 4, 8], "note": list("abcd")})


def test_valid_table_is_sorted_typed_and_keeps_extra_columns() -> None:
    raw = _obs()
    out = validate_table(raw, "enterprise_years", enterprises=validate(_enterprises(),
                                                                        "enterprises"))
    assert out[["enterprise_id", "year"]].values.tolist() == [
        ["E1", 2015], ["E1", 2016], ["E2", 2018], ["E2", 2019]]
    assert str(out["year"].dtype) == "Int64" and "note" in out.columns
    assert raw["year"].tolist() == [2016, 2019, 2015, 2018]  # input untouched


def test_closed_column_is_an_integer_year() -> None:
    out = validate(_enterprises(), "enterprises")
    assert str(out["closed"].dtype) == "Int64"
    bad = _enterprises().assign(closed=["soon", pd.NA])
    with pytest.raises(SchemaError, match="closed"):
        validate(bad, "enterprises")


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d.drop(columns="year"), "required column 'year' is missing"),
    (lambda d: d.assign(year=[2016, 2019, 2016, 2018]), "duplicate rows"),
    (lambda d: d.assign(revenue_cny=[1.0, -2.0, 1.0, 1.0]), "must be >= 0"),
    (lambda d: d.assign(enterprise_id=["E1", "E9", "E1", "E2"]), "not in the enterprises"),
    (lambda d: d.assign(year=[2016, 2020, 2015, 2018]), "closed"),
    (lambda d: d.assign(year=[2014, 2019, 2015, 2018]), "founded"),
])
def test_problems_name_the_column_and_rows(change, match) -> None:
    ent = validate(_enterprises(), "enterprises")
    with pytest.raises(SchemaError, match=match) as info:
        validate_table(change(_obs()), "enterprise_years", enterprises=ent)
    assert "enterprise_years" in str(info.value)


def test_unknown_kind_and_wrong_type() -> None:
    with pytest.raises(ValueError, match="unknown table kind"):
        validate_table(_obs(), "panel")
    with pytest.raises(TypeError, match="DataFrame"):
        validate_table([1, 2], "enterprise_years")  # type: ignore[arg-type]


def test_atlas_round_trips_tables_through_geopackage(tmp_path) -> None:
    atlas = Atlas({"enterprises": _enterprises()},
                  {"enterprise_years": {"status": "synthetic", "source": "test"}},
                  tables={"enterprise_years": _obs()})
    path = atlas.to_gpkg(tmp_path / "a.gpkg")
    back = Atlas.from_gpkg(path)
    pd.testing.assert_frame_equal(back.table("enterprise_years"),
                                  atlas.table("enterprise_years"), check_dtype=False)
    assert back.provenance["enterprise_years"]["status"] == "synthetic"
    assert "enterprise_years" in back.summary()["layer"].tolist()
    with pytest.raises(KeyError, match="with_table"):
        Atlas({"enterprises": _enterprises()}).table("enterprise_years")


def test_atlas_checks_tables_against_its_enterprises() -> None:
    with pytest.raises(SchemaError, match="not in the enterprises"):
        Atlas({"enterprises": _enterprises()},
              tables={"enterprise_years": _obs().assign(enterprise_id="E7")})


def test_demo_panel_is_flagged_synthetic_and_consistent(demo) -> None:
    panel = demo.table("enterprise_years")
    assert demo.provenance["enterprise_years"]["status"] == "synthetic"
    assert (panel["year"].min(), panel["year"].max()) == (2012, 2025)
    ent = demo["enterprises"]
    assert ent["closed"].notna().sum() > 1000          # closures
    assert (ent["founded"] > 2012).sum() > 1000         # births

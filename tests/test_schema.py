"""One realistic broken layer per validation check; every error names layer, column, rows, fix."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

import cci_geo
from cci_geo import SchemaError, validate
from cci_geo.schema import LAYER_SPECS, SECTORS


def test_valid_layer_passes_and_keeps_extra_columns(enterprises):
    out = validate(enterprises, "enterprises")
    assert list(out["extra_note"]) == list("abcdef")
    assert out.crs.to_epsg() == 4326
    assert out is not enterprises


def test_input_is_never_mutated(enterprises):
    broken = enterprises.copy()
    broken["employees"] = broken["employees"].astype(object)
    broken.loc[0, "employees"] = "12"
    snapshot = broken.copy()
    validate(broken, "enterprises")
    assert broken.equals(snapshot) and broken["employees"].dtype == object


def test_missing_required_column_suggests_rename(enterprises):
    bad = enterprises.rename(columns={"sector": "Sector"})
    with pytest.raises(SchemaError, match=r"required column 'sector' is missing.*rename "
                                           r"column 'Sector' to 'sector'") as ei:
        validate(bad, "enterprises", layer="firms.gpkg")
    assert ei.value.layer == "firms.gpkg"
    assert ei.value.problems[0].column == "sector"


def test_wrong_dtype_names_rows(enterprises):
    bad = enterprises.astype({"revenue_cny": object})
    bad.loc[[1, 4], "revenue_cny"] = ["n/a", "unknown"]
    with pytest.raises(SchemaError, match=r"'revenue_cny' must be numeric.*'n/a'.*rows 1, 4"):
        validate(bad, "enterprises")


def test_nan_in_required_numeric(enterprises):
    bad = enterprises.copy()
    bad.loc[2, "employees"] = np.nan
    with pytest.raises(SchemaError, match=r"'employees' has missing \(NaN\).*row 2"):
        validate(bad, "enterprises")


def test_sector_codes_outside_the_nine_list_valid_codes(enterprises):
    bad = enterprises.copy()
    bad.loc[3, "sector"] = "fashion"
    with pytest.raises(SchemaError) as ei:
        validate(bad, "enterprises")
    msg = str(ei.value)
    assert "'fashion'" in msg and "row 3" in msg
    assert all(code in msg for code in SECTORS)


def test_multi_sector_column(zones_metric):
    bad = zones_metric.copy()
    bad.loc[1, "sectors"] = "film_tv;gaming"
    with pytest.raises(SchemaError, match="'film_tv;gaming'.*separated by ';'"):
        validate(bad, "zones")


def test_duplicate_ids(enterprises):
    bad = enterprises.copy()
    bad.loc[5, "id"] = "E0"
    with pytest.raises(SchemaError, match=r"duplicate values such as 'E0'.*rows 0, 5"):
        validate(bad, "enterprises")


def test_geometry_type(venue_point):
    bad = venue_point.set_geometry([LineString([(116.3, 39.9), (116.4, 39.9)])])
    with pytest.raises(SchemaError, match="LineString is not allowed.*needs Point"):
        validate(bad, "venues")


def test_empty_and_missing_geometries(enterprises):
    bad = enterprises.copy()
    bad.loc[1, "geometry"] = Point()
    bad.loc[2, "geometry"] = None
    with pytest.raises(SchemaError, match=r"missing or empty geometries \(rows 1, 2\)"):
        validate(bad, "enterprises")


def test_invalid_polygon_is_repaired_with_a_counting_warning(zones_metric):
    bowtie = Polygon([(450000, 4420000), (450500, 4420500), (450500, 4420000),
                      (450000, 4420500)])
    bad = zones_metric.copy()
    bad.loc[0, "geometry"] = bowtie
    with pytest.warns(UserWarning, match=r"1 invalid geometry repaired with shapely.make_valid"):
        out = validate(bad, "zones")
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    assert not bad.geometry.iloc[0].is_valid  # input untouched


def test_missing_crs_is_an_error_unless_assumed(venue_point):
    naive = venue_point.set_crs(None, allow_override=True)
    with pytest.raises(SchemaError, match="no coordinate reference system.*assume_crs"):
        validate(naive, "venues")
    assert validate(naive, "venues", assume_crs="EPSG:4326").crs.to_epsg() == 4326


def test_swapped_lat_lon_gets_a_hint(venue_point):
    swapped = venue_point.set_geometry([Point(39.9049, 116.3356)])
    with pytest.raises(SchemaError, match=r"\(latitude, longitude\).*swap the axes"):
        validate(swapped, "venues")


def test_projected_metres_labelled_as_degrees(venue_point):
    mislabelled = venue_point.set_geometry([Point(450000, 4420000)])
    with pytest.raises(SchemaError, match="probably projected metres"):
        validate(mislabelled, "venues")


SHANGHAI = (120.85, 30.67, 122.2, 31.88)


def test_outside_study_region(venue_point):
    shanghai = venue_point.set_geometry([Point(121.47, 31.23)])
    with pytest.raises(SchemaError, match=r"outside the Beijing-Tianjin-Hebei \(Jing-Jin-Ji\) "
                       r"study region.*pass region=\(west, south, east, north\)"):
        validate(shanghai, "venues")
    out = validate(shanghai, "venues", region=SHANGHAI)       # another study area
    assert out.geometry.iloc[0].x == pytest.approx(121.47)
    with pytest.raises(SchemaError, match=r"outside the study region \(lon 120.85"):
        validate(venue_point, "venues", region=SHANGHAI)       # Beijing is outside Shanghai's


@pytest.mark.parametrize("bad", [(1, 2, 3), (122.2, 30.67, 120.85, 31.88), "shanghai",
                                 (0, 95, 1, 96)])
def test_bad_region_is_a_parameter_error(venue_point, bad):
    from cci_geo.errors import ParameterError

    with pytest.raises(ParameterError, match="region"):
        validate(venue_point, "venues", region=bad)


def test_projected_input_is_returned_in_4326(zones_metric):
    out = validate(zones_metric, "zones")
    assert out.crs.to_epsg() == 4326
    assert 116 < out.geometry.iloc[0].centroid.x < 117


def test_choices_and_ranges(venue_point):
    bad = venue_point.copy()
    bad["kind"] = ["cinema"]
    bad["open_space_m2"] = [-10.0]
    with pytest.raises(SchemaError) as ei:
        validate(bad, "venues")
    assert len(ei.value.problems) == 2
    assert "'cinema', not one of" in str(ei.value) and ">= 0" in str(ei.value)


def test_every_problem_is_reported_at_once(enterprises):
    bad = enterprises.drop(columns=["revenue_cny"])
    bad.loc[0, "sector"] = "fashion"
    bad.loc[1, "id"] = "E0"
    with pytest.raises(SchemaError) as ei:
        validate(bad, "enterprises")
    checks = {p.check for p in ei.value.problems}
    assert {"missing_column", "sector", "duplicate_id"} <= checks


def test_unknown_kind_and_wrong_type():
    with pytest.raises(ValueError, match="unknown layer kind 'parks'.*zones"):
        validate(gpd.GeoDataFrame(geometry=[]), "parks")
    with pytest.raises(TypeError, match="needs a GeoDataFrame"):
        validate({"id": [1]}, "zones")


def test_bool_columns_accept_text_and_numbers():
    gdf = gpd.GeoDataFrame({"id": ["F1", "F2", "F3"], "status": ["vacant"] * 3,
                            "heritage": ["yes", "0", None]},
                           geometry=[Point(116.4, 39.9)] * 3, crs="EPSG:4326")
    out = validate(gdf, "factory_sites")
    assert out["heritage"].tolist()[:2] == [True, False] and out["heritage"].isna().iloc[2]


def test_every_kind_has_id_and_geometry_rules():
    for spec in LAYER_SPECS.values():
        assert spec.column("id") is not None and spec.geom_types


def test_demo_layers_all_validate(demo):
    for kind, gdf in demo.items():
        assert cci_geo.validate(gdf, kind).shape[0] == len(gdf)


def test_messages_list_every_distinct_bad_value(enterprises):
    bad = enterprises.copy()
    bad.loc[1, "sector"] = "Design"
    bad.loc[4, "sector"] = "games"
    with pytest.raises(SchemaError, match=r"'Design', 'games'.*rows 1, 4"):
        validate(bad, "enterprises")

"""Atlases and results in a real PostgreSQL/PostGIS database.

The database is named by ``CCI_GEO_POSTGIS_URL`` (``.ci/run`` starts one). Without it the
tests skip, unless ``CCI_GEO_REQUIRE_POSTGIS=1`` (set by CI), in which case they fail.
"""

import os

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

import cci_geo
from cci_geo import Atlas, SchemaError, postgis, read_layer
from cci_geo.cli.main import main
from cci_geo.errors import DataError


def _url():
    url = os.environ.get("CCI_GEO_POSTGIS_URL")
    reason = "set CCI_GEO_POSTGIS_URL to a PostGIS database (as .ci/run does)"
    if not url:
        if os.environ.get("CCI_GEO_REQUIRE_POSTGIS") == "1":
            pytest.fail(f"CCI_GEO_REQUIRE_POSTGIS=1 but no database: {reason}")
        pytest.skip(f"PostGIS tests need a database: {reason}")
    if os.environ.get("CCI_GEO_REQUIRE_POSTGIS") != "1":
        pytest.importorskip("psycopg")
    return url


@pytest.fixture
def url(request):
    base = _url()
    import psycopg

    schema = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    yield f"{base}?schema={schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _tables(url):
    import psycopg

    dsn, schema = postgis._split(url, None)
    with psycopg.connect(dsn) as conn:
        return postgis._tables(conn, schema)


@pytest.fixture(scope="module")
def small():
    demo = cci_geo.load_demo()
    kinds = ["districts", "zones", "venues", "stations", "transit_lines"]
    return Atlas({k: demo[k] for k in kinds}, demo.provenance, name="北京 small",
                 metric_crs="EPSG:4547")


def test_atlas_round_trip(url, small):
    assert small.to_postgis(url) == url.rsplit("=", 1)[1]
    back = Atlas.from_postgis(url)
    assert set(back) == set(small) and back.name == "北京 small"
    assert back.metric_crs == "EPSG:4547" and back.provenance == small.provenance
    for kind in small:
        a, b = small[kind], back[kind]
        assert list(a.columns) == list(b.columns), kind
        assert list(a["id"]) == list(b["id"]), kind  # storage order kept
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), kind
    assert list(back["zones"]["name_zh"]) == list(small["zones"]["name_zh"])
    assert back["transit_lines"]["loop"].dtype == "boolean"
    np.testing.assert_allclose(back["venues"]["open_space_m2"], small["venues"]["open_space_m2"])
    assert set(_tables(url)) == {*small, "cci_geo_metadata"}


def test_attribute_tables_round_trip(url):
    demo = cci_geo.load_demo()
    ent = demo["enterprises"].head(300)
    years = demo.table("enterprise_years")
    years = years[years["enterprise_id"].isin(ent["id"])].reset_index(drop=True)
    atlas = Atlas({"enterprises": ent}, demo.provenance, name="panel",
                  tables={"enterprise_years": years})
    atlas.to_postgis(url)
    assert set(_tables(url)) == {"enterprises", "enterprise_years", "cci_geo_metadata"}
    back = Atlas.from_postgis(url)
    assert list(back.tables) == ["enterprise_years"]
    got = back.table("enterprise_years")
    assert list(got.columns) == list(years.columns) and len(got) == len(years) > 300
    for col in years.columns:
        assert got[col].astype(object).tolist() == years[col].astype(object).tolist(), col
    assert back.provenance.get("enterprise_years") == atlas.provenance.get("enterprise_years")


def test_a_database_without_metadata_takes_a_region(url):
    from _atlases import SHANGHAI_BBOX, shanghai_atlas

    sh = shanghai_atlas(n=200)
    for kind in ("districts", "zones", "enterprises"):
        postgis.write_layer(sh[kind], url, kind)  # no cci_geo_metadata: no stored region
    with pytest.raises(SchemaError, match="outside the Beijing-Tianjin-Hebei"):
        Atlas.read(url)
    back = Atlas.read(url, region=SHANGHAI_BBOX, metric_crs="EPSG:32651")
    assert back.region == SHANGHAI_BBOX and back.metric_crs == "EPSG:32651"
    assert set(back) == {"districts", "zones", "enterprises"}
    assert main(["info", url, "--region", "data"]) == 0


def test_write_is_one_transaction(url, small):
    small.to_postgis(url)
    bad = small["zones"].copy()
    bad["extra"] = [{"not": "storable"}] + [None] * (len(bad) - 1)  # fails inside COPY
    # stations is written before zones fails; the rollback must remove it again
    broken = Atlas({"stations": small["stations"], "zones": bad}, small.provenance)
    with pytest.raises(DataError, match="rolled back.*nothing was written"):
        broken.to_postgis(url, overwrite=True)
    back = Atlas.from_postgis(url)  # the earlier atlas is untouched
    assert "extra" not in back["zones"] and len(back["stations"]) == len(small["stations"])


def test_refuses_to_replace_tables_unless_asked(url, small):
    small.to_postgis(url)
    one = Atlas({"zones": small["zones"].head(3)}, small.provenance)
    with pytest.raises(FileExistsError, match="zones already exists.*overwrite"):
        one.to_postgis(url)
    one.to_postgis(url, overwrite=True)
    back = Atlas.from_postgis(url)
    assert len(back["zones"]) == 3 and len(back["venues"]) == len(small["venues"])
    assert back.provenance["venues"] == small.provenance["venues"]  # other rows kept


def test_layers_are_validated_on_read(url, small):
    zones = small["zones"].copy()
    zones.loc[zones.index[1], "id"] = zones["id"].iloc[0]  # duplicate id
    postgis.write_layer(gpd.GeoDataFrame(zones), url, "zones")
    with pytest.raises(SchemaError, match="duplicate"):
        Atlas.from_postgis(url)
    assert len(Atlas.from_postgis(url, validate_layers=False)["zones"]) == len(zones)


def test_results_and_projected_tables(url):
    scores = gpd.GeoDataFrame({"id": ["S1", "S2"], "得分": [0.8, np.nan], "rank": [1, 2]},
                              geometry=[Point(455000, 4420000), Point(456000, 4421000)],
                              crs="EPSG:32650")
    where = postgis.write_layer(scores, url, "site_scores")
    assert where.endswith(".site_scores")
    back = read_layer(url, layer="site_scores")
    assert back.crs.to_epsg() == 4326 and list(back["得分"].isna()) == [False, True]
    np.testing.assert_allclose(back.to_crs(32650).geometry.x, [455000, 456000], atol=1e-3)
    with pytest.raises(DataError, match="no spatial table 'nope'"):
        read_layer(url, layer="nope")
    with pytest.raises(DataError, match="no spatial table named after a layer kind"):
        Atlas.from_postgis(url)


def test_cli_reads_an_atlas_from_postgis(url, small, capsys):
    small.to_postgis(url)
    assert main(["info", url]) == 0
    out = capsys.readouterr().out
    assert "北京 small" in out and "stations" in out and "ODbL" in out


def test_unreachable_database_is_a_data_error():
    _url()
    with pytest.raises(DataError, match="cannot connect"):
        Atlas.from_postgis("postgresql://nobody@localhost:1/none?connect_timeout=2")

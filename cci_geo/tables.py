"""Tables a person reads: Excel-ready CSV (UTF-8 with BOM) and XLSX workbooks.

Every table a ``cci-geo`` command writes goes through this module, so each one opens in Excel
(including Chinese Excel) without an import dialog: CSVs are UTF-8 with a byte-order mark and
have one header row and no comment lines (metadata goes to a sidecar JSON); workbooks carry a
sheet per table with frozen bilingual header rows (Chinese, then English, units in both),
number formats (percentages, thousands separators) and a ``sources`` sheet with each input's
provenance and a synthetic flag.

A table is described by :class:`Column` specs: the header in both languages, the unit and how
a person reads the number (``"percent"``, ``"int"`` or a number of decimals). Columns without
a spec keep their name and floats are rounded to three decimals.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._files import atomic_path, check_writable

__all__ = [
    "COLUMNS",
    "Column",
    "CRITERIA",
    "add_district_names",
    "criterion_columns",
    "district_names",
    "header",
    "readable",
    "sources_table",
    "write_csv",
    "write_tables",
    "write_xlsx",
]

#: Byte-order mark that makes Excel read a CSV as UTF-8.
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Column:
    """How a column is shown to a person.

    Parameters
    ----------
    zh, en
        Header in Chinese and English (without the unit).
    unit
        Unit shown in brackets after the header (``""`` for none; ``"%"`` for percentages).
    fmt
        ``"text"``, ``"int"``, ``"percent"`` (a 0-1 ratio shown as a percentage with one
        decimal) or ``"float:N"`` (N decimals).
    """

    zh: str
    en: str
    unit: str = ""
    fmt: str = "text"

    def header(self, lang: str = "both") -> str:
        """Return the header in ``"zh"``, ``"en"`` or ``"both"`` (``"中文 / English (unit)"``)."""
        unit = f" ({self.unit})" if self.unit else ""
        if lang == "zh":
            return f"{self.zh}{unit}"
        if lang == "en":
            return f"{self.en}{unit}"
        return f"{self.zh} / {self.en}{unit}"


#: Specs of the columns cci_geo writes. Callers add their own with ``columns=``.
COLUMNS: dict[str, Column] = {
    "id": Column("编号", "ID"),
    "name_zh": Column("中文名称", "Name in Chinese"),
    "name_en": Column("英文名称", "Name"),
    "district": Column("所在区代码", "District code"),
    "district_zh": Column("所在区", "District in Chinese"),
    "district_en": Column("所在区英文名", "District"),
    "status": Column("状态", "Status"),
    "former_use": Column("原用途", "Former use"),
    "built_year": Column("建成年份", "Built", fmt="int"),
    "floor_area_m2": Column("建筑面积", "Floor area", "m²", "int"),
    "heritage": Column("工业遗产", "Industrial heritage"),
    "data_status": Column("数据性质", "Data status"),
    "score": Column("综合得分", "Score", "0-1", "float:3"),
    "rank": Column("排名", "Rank", fmt="int"),
    "excluded_by": Column("排除原因", "Excluded by"),
    "missing": Column("缺失指标", "Missing criteria"),
    "rank_p05": Column("排名 5% 分位", "Rank, 5th percentile", fmt="float:1"),
    "rank_median": Column("排名中位数", "Rank, median", fmt="float:1"),
    "rank_p95": Column("排名 95% 分位", "Rank, 95th percentile", fmt="float:1"),
    "rank_mean": Column("平均排名", "Rank, mean", fmt="float:1"),
    "p_top_k": Column("进入前列的概率", "Probability of top k", "%", "percent"),
    "demand": Column("需求（从业人员数）", "Demand (employees)", fmt="int"),
    "zones_before": Column("现有园区数", "Existing zones", fmt="int"),
    "new_sites": Column("新增园区数", "New zones", fmt="int"),
    "covered_before": Column("现状覆盖的从业人员", "Employees covered now", fmt="int"),
    "covered_after": Column("方案覆盖的从业人员", "Employees covered with plan", fmt="int"),
    "share_before": Column("现状覆盖率", "Share covered now", "%", "percent"),
    "share_after": Column("方案覆盖率", "Share covered with plan", "%", "percent"),
    "mean_cost_before": Column("现状平均距离", "Mean distance now", "m", "int"),
    "mean_cost_after": Column("方案平均距离", "Mean distance with plan", "m", "int"),
    "existing": Column("现有园区", "Existing zone"),
    "fixed": Column("保留", "Kept"),
    "source": Column("来源图层", "Source layer"),
    "demand_served": Column("服务的从业人员", "Employees served", fmt="int"),
    "n_demand": Column("服务需求格网数", "Demand cells served", fmt="int"),
    "mean_cost": Column("平均距离", "Mean distance", "m", "int"),
    "max_cost": Column("最远距离", "Longest distance", "m", "int"),
    "weight": Column("权重", "Weight", "%", "percent"),
    "measure": Column("度量", "Measure"),
    "layer": Column("图层", "Layer"),
    "unit": Column("单位", "Unit"),
    "value_function": Column("价值函数", "Value function"),
    "criterion": Column("指标", "Criterion"),
    "adcode": Column("行政区划代码", "Admin code"),
    "total": Column("企业总数", "Enterprises", fmt="int"),
    "krugman": Column("克鲁格曼专业化指数", "Krugman specialisation index", fmt="float:3"),
}

#: Names of the criteria of the bundled scenarios (a planner's own criteria keep their names).
CRITERIA: dict[str, tuple[str, str]] = {
    "zone_proximity": ("邻近文创园区", "Near CCI zones"),
    "functional_area": ("邻近功能区", "Near functional areas"),
    "enterprise_density": ("企业密度", "Enterprise density"),
    "venue_access": ("文化设施可达性", "Venue access"),
    "metro_access": ("地铁可达性", "Metro access"),
    "metro_distance": ("邻近地铁站", "Near metro stations"),
    "floor_area": ("建筑面积", "Floor area"),
    "heritage": ("工业遗产", "Industrial heritage"),
}


def criterion_columns(criteria: pd.DataFrame) -> dict[str, Column]:
    """Return :class:`Column` specs for the ``raw_``, ``value_`` and ``contrib_`` columns.

    ``criteria`` is a suitability result's ``criteria_table`` (indexed by criterion, with a
    ``unit`` column).

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["m"]}, index=pd.Index(["zone_proximity"], name="criterion"))
    >>> criterion_columns(t)["raw_zone_proximity"].header()
    '邻近文创园区 测量值 / Near CCI zones, measured (m)'
    """
    out: dict[str, Column] = {}
    for name in criteria.index:
        zh, en = CRITERIA.get(str(name), (str(name), str(name).replace("_", " ")))
        unit = str(criteria.loc[name, "unit"]) if "unit" in criteria else ""
        unit = "" if unit in ("nan", "None") else unit
        out[f"raw_{name}"] = Column(f"{zh} 测量值", f"{en}, measured", unit, "float:1")
        out[f"value_{name}"] = Column(f"{zh} 得分", f"{en}, value", "0-1", "float:3")
        out[f"contrib_{name}"] = Column(f"{zh} 贡献", f"{en}, contribution", "0-1",
                                        "float:3")
    return out


_SOURCE_COLUMNS = {
    "layer": Column("图层", "Layer"),
    "source": Column("来源", "Source"),
    "licence": Column("许可", "Licence"),
    "datum": Column("坐标系", "Datum"),
    "status": Column("数据性质", "Data status"),
    "synthetic": Column("合成数据", "Synthetic"),
    "approximate": Column("近似位置", "Approximate"),
    "notes": Column("说明", "Notes"),
}


def _spec(col: str, columns: Mapping[str, Column] | None) -> Column:
    if columns and col in columns:
        return columns[col]
    if col in COLUMNS:
        return COLUMNS[col]
    return Column(str(col), str(col), fmt="float:3")


def header(col: str, lang: str = "both", *, columns: Mapping[str, Column] | None = None) -> str:
    """Return the display header of column ``col``.

    Examples
    --------
    >>> header("floor_area_m2")
    '建筑面积 / Floor area (m²)'
    >>> header("share_after", "en")
    'Share covered with plan (%)'
    """
    return _spec(col, columns).header(lang)


def _round(values: pd.Series, fmt: str, *, percent_as_number: bool) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values
    if fmt == "percent":
        return (values * 100).round(1) if percent_as_number else values.round(4)
    if fmt == "int":
        return values.round(0).astype("Int64")
    if fmt.startswith("float:"):
        return values.round(int(fmt.split(":", 1)[1]))
    return values


def readable(df: pd.DataFrame, *, columns: Mapping[str, Column] | None = None,
             lang: str = "both", percent_as_number: bool = True) -> pd.DataFrame:
    """Return a copy of ``df`` with display headers and rounded values.

    Percent columns become percentages (``0.08353`` -> ``8.4``, the unit in the header) when
    ``percent_as_number``; otherwise they stay 0-1 ratios rounded to 4 decimals (a workbook
    shows them with a percent format). Integers are rounded to whole numbers, floats to the
    decimals of their spec (three by default). The index is kept as a column when named.

    Examples
    --------
    >>> t = pd.DataFrame({"share_after": [0.08353], "score": [0.5597643405781698]})
    >>> readable(t, lang="en").to_dict("records")
    [{'Share covered with plan (%)': 8.4, 'Score (0-1)': 0.56}]
    """
    out = df.reset_index() if df.index.name is not None else df.copy()
    data = {}
    for col in out.columns:
        spec = _spec(col, columns)
        data[spec.header(lang)] = _round(out[col], spec.fmt,
                                         percent_as_number=percent_as_number)
    return pd.DataFrame(data, index=out.index)


def district_names(districts: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Map every district code and name (adcode, id, name_zh, name_en) to ``(name_zh, name_en)``.

    Examples
    --------
    >>> d = pd.DataFrame({"adcode": ["110105"], "name_zh": ["朝阳区"], "name_en": ["Chaoyang"]})
    >>> district_names(d)["110105"]
    ('朝阳区', 'Chaoyang')
    >>> district_names(d)["Chaoyang"]
    ('朝阳区', 'Chaoyang')
    """
    out: dict[str, tuple[str, str]] = {}
    zh = districts.get("name_zh", districts.get("name_en"))
    en = districts.get("name_en", zh)
    if zh is None or en is None:
        return out
    for key_col in ("name_zh", "name_en", "id", "adcode"):
        if key_col not in districts:
            continue
        for key, a, b in zip(districts[key_col], zh, en, strict=True):
            if key is not None and not (isinstance(key, float) and math.isnan(key)):
                out.setdefault(str(key), (str(a), str(b)))
    return out


def add_district_names(df: pd.DataFrame, districts: pd.DataFrame, *,
                       column: str = "district") -> pd.DataFrame:
    """Return a copy of ``df`` with ``district_zh`` and ``district_en`` right after ``column``.

    ``column`` may hold adcodes or names (Chinese or English); unknown values give empty names.
    When ``column`` is the index, it is turned into a column first.

    Examples
    --------
    >>> d = pd.DataFrame({"adcode": ["110105"], "name_zh": ["朝阳区"], "name_en": ["Chaoyang"]})
    >>> t = pd.DataFrame({"district": ["110105", "total"], "n": [3, 3]})
    >>> add_district_names(t, d).columns.tolist()
    ['district', 'district_zh', 'district_en', 'n']
    >>> add_district_names(t, d)["district_en"].tolist()
    ['Chaoyang', '']
    """
    out = df.reset_index() if df.index.name == column else df.copy()
    if column not in out.columns:
        return out
    names = district_names(districts)
    keys = out[column].map(lambda v: "" if v is None else str(v))
    pos = list(out.columns).index(column) + 1
    for i, name in enumerate(("district_zh", "district_en")):
        values = [names.get(k, ("", ""))[i] for k in keys]
        if name in out.columns:
            out[name] = [v or old for v, old in zip(values, out[name], strict=True)]
        else:
            out.insert(pos + i, name, values)
    return out


def sources_table(provenance: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Return one row per input layer: source, licence, datum, status and synthetic flags.

    ``provenance`` maps a layer name to its record (``Atlas.provenance``).

    Examples
    --------
    >>> sources_table({"enterprises": {"source": "build_demo.py", "status": "synthetic"}}
    ...               )[["layer", "synthetic"]].to_dict("records")
    [{'layer': 'enterprises', 'synthetic': True}]
    """
    rows = []
    for layer, rec in sorted(provenance.items()):
        status = str(rec.get("status", ""))
        rows.append({"layer": layer, "source": str(rec.get("source", "")),
                     "licence": str(rec.get("licence", "")),
                     "datum": str(rec.get("datum", "")), "status": status,
                     "synthetic": "synthetic" in status, "approximate": "approximate" in status,
                     "notes": str(rec.get("notes", ""))})
    return pd.DataFrame(rows, columns=list(_SOURCE_COLUMNS))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.stem + "_metadata.json")


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *,
              columns: Mapping[str, Column] | None = None, lang: str = "both",
              metadata: Mapping[str, Any] | None = None, overwrite: bool = False) -> Path:
    """Write ``df`` as a CSV that Excel opens correctly, atomically.

    UTF-8 with a byte-order mark, one header row of display headers (:func:`readable`), values
    rounded, percentages as numbers with ``%`` in the header, no comment lines. ``metadata``
    (scenario, version, date, ...) goes to a sidecar ``<stem>_metadata.json``.

    Parameters
    ----------
    df
        The table (machine column names; a named index becomes the first column).
    path
        Output ``.csv`` file.
    columns
        Extra or overriding :class:`Column` specs.
    lang
        Headers in ``"zh"``, ``"en"`` or ``"both"``.
    metadata
        Written to the sidecar JSON when given.
    overwrite
        Replace existing files; otherwise ``FileExistsError`` and nothing is written.

    Returns
    -------
    pathlib.Path
        The CSV written.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"name_zh": ["朝阳区"], "score": [0.55976]}), p)
    >>> p.read_bytes()[:3] == BOM
    True
    >>> pd.read_csv(p, encoding="utf-8-sig").columns.tolist()
    ['中文名称 / Name in Chinese', '综合得分 / Score (0-1)']
    """
    target = check_writable(path, overwrite=overwrite)
    if metadata is not None:
        check_writable(_sidecar(target), overwrite=overwrite)
    table = readable(df, columns=columns, lang=lang)
    with atomic_path(target, overwrite=overwrite) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    if metadata is not None:
        with atomic_path(_sidecar(target), overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(dict(metadata), indent=2, ensure_ascii=False,
                                      default=str), encoding="utf-8")
    return target


_NUMBER_FORMATS = {"percent": "0.0%", "int": "#,##0", "float:1": "#,##0.0",
                   "float:2": "#,##0.00", "float:3": "0.000"}


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name))[:31] or "sheet"
    base, i = clean, 2
    while clean.lower() in used:
        clean = f"{base[:28]}_{i}"
        i += 1
    used.add(clean.lower())
    return clean


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, dict, set)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _write_sheet(ws: Any, df: pd.DataFrame, columns: Mapping[str, Column] | None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    table = df.reset_index() if df.index.name is not None else df
    specs = [_spec(c, columns) for c in table.columns]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4EE")
    ws.append([s.header("zh") for s in specs])
    ws.append([s.header("en") for s in specs])
    for row in ws.iter_rows(min_row=1, max_row=2):
        for cell in row:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    rounded = {c: _round(table[c], s.fmt, percent_as_number=False)
               for c, s in zip(table.columns, specs, strict=True)}
    for i in range(len(table)):
        ws.append([_cell(rounded[c].iloc[i]) for c in table.columns])
    for j, (col, spec) in enumerate(zip(table.columns, specs, strict=True), start=1):
        letter = get_column_letter(j)
        numeric = (pd.api.types.is_numeric_dtype(table[col])
                   and not pd.api.types.is_bool_dtype(table[col]))
        fmt = _NUMBER_FORMATS.get(spec.fmt) if numeric else None
        if fmt:
            for cell in ws[letter][2:]:
                cell.number_format = fmt
        width = max([len(spec.header("zh")) * 2, len(spec.header("en"))]
                    + [len(str(v)) for v in table[col].head(200)])
        ws.column_dimensions[letter].width = min(max(8, width + 2), 60)
    ws.freeze_panes = "A3"


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str], *,
               sources: Mapping[str, Mapping[str, Any]] | pd.DataFrame | None = None,
               metadata: Mapping[str, Any] | None = None,
               columns: Mapping[str, Column] | None = None,
               overwrite: bool = False) -> Path:
    """Write tables into one Excel workbook, one sheet each, atomically.

    Each sheet has two frozen header rows (Chinese, then English, units in both), rounded
    values, number formats (percentages, thousands separators) and column widths that fit.
    A ``sources`` sheet lists each input's provenance with synthetic and approximate flags, and
    ``metadata`` (scenario, version, date, ...) goes to an ``about`` sheet.

    Parameters
    ----------
    sheets
        Sheet name -> table (machine column names). Names are cut to Excel's 31 characters.
    path
        Output ``.xlsx`` file.
    sources
        ``Atlas.provenance`` (layer -> record) or a table from :func:`sources_table`.
    metadata
        Key -> value pairs for the ``about`` sheet.
    columns
        Extra or overriding :class:`Column` specs.
    overwrite
        Replace an existing file; otherwise ``FileExistsError``.

    Returns
    -------
    pathlib.Path
        The workbook written.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> _ = write_xlsx({"sites": pd.DataFrame({"score": [0.55976], "p_top_k": [0.8]})}, p,
    ...                sources={"enterprises": {"status": "synthetic"}})
    >>> pd.read_excel(p, sheet_name=None, header=1)["sites"].to_dict("records")
    [{'Score (0-1)': 0.56, 'Probability of top k (%)': 0.8}]
    """
    from openpyxl import Workbook  # noqa: PLC0415

    target = check_writable(path, overwrite=overwrite)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in sheets.items():
        _write_sheet(wb.create_sheet(_sheet_name(name, used)), df, columns)
    if sources is not None:
        table = sources if isinstance(sources, pd.DataFrame) else sources_table(sources)
        _write_sheet(wb.create_sheet(_sheet_name("sources", used)), table, _SOURCE_COLUMNS)
    if metadata:
        about = pd.DataFrame({"key": list(metadata),
                              "value": [_cell(v) if not isinstance(v, (int, float)) else str(v)
                                        for v in metadata.values()]})
        _write_sheet(wb.create_sheet(_sheet_name("about", used)), about,
                     {"key": Column("项目", "Item"), "value": Column("内容", "Value")})
    with atomic_path(target, overwrite=overwrite) as tmp:
        wb.save(tmp)
    return target


def write_tables(tables: Mapping[str, pd.DataFrame], out: Mapping[str, Path], *,
                 xlsx: Path | None = None, columns: Mapping[str, Column] | None = None,
                 sources: Mapping[str, Mapping[str, Any]] | None = None,
                 metadata: Mapping[str, Any] | None = None,
                 overwrite: bool = False) -> list[Path]:
    """Write each table to its CSV and, when ``xlsx`` is given, all of them to one workbook.

    Every target is checked before anything is written. Returns the written paths.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> t = {"summary": pd.DataFrame({"score": [0.5]})}
    >>> [p.name for p in write_tables(t, {"summary": d / "s.csv"}, xlsx=d / "s.xlsx")]
    ['s.csv', 's.xlsx']
    """
    targets: Iterable[Path] = [*out.values(), *([xlsx] if xlsx is not None else [])]
    for p in targets:
        check_writable(p, overwrite=overwrite)
    written = [write_csv(tables[name], path, columns=columns, overwrite=overwrite)
               for name, path in out.items()]
    if xlsx is not None:
        written.append(write_xlsx(tables, xlsx, sources=sources, metadata=metadata,
                                  columns=columns, overwrite=overwrite))
    return written

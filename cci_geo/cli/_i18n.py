"""The CLI's own words in Chinese and English: summaries, progress labels, common errors.

The language is ``--lang`` when given, else the ``CCI_GEO_LANG`` environment variable, else
English for messages (maps default to Chinese, as before).
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["MESSAGES", "cli_lang", "localise_error", "map_lang", "msg"]

#: Message key -> (Chinese, English); ``{name}`` fields are filled by :func:`msg`.
MESSAGES: dict[str, tuple[str, str]] = {
    # progress labels
    "atlas": ("读取图集", "atlas"),
    "scoring": ("评分", "scoring"),
    "writing": ("写出文件", "writing"),
    "solving": ("求解", "solving"),
    "writing tables": ("写出表格", "writing tables"),
    "drawing the map": ("绘制地图", "drawing the map"),
    "concentration": ("集聚分析", "concentration"),
    "accessibility": ("可达性", "accessibility"),
    "suitability": ("适宜性", "suitability"),
    "layout": ("布局优化", "layout"),
    "corridors": ("协同廊道", "corridors"),
    "map": ("地图", "map"),
    "write": ("写出", "write"),
    "report": ("报告", "report"),
    "tables": ("表格", "tables"),
    # summaries
    "ranked": ("{name}：{total} 个候选地块中 {ranked} 个参与排名",
               "{name}: {ranked} of {total} sites ranked"),
    "wrote": ("已写出 {path}", "wrote {path}"),
    "wrote_size": ("已写出 {path}（{size:.1f} MB，可离线在浏览器中打开）",
                   "wrote {path} ({size:.1f} MB; opens offline in any modern browser)"),
    "wrote_pdf": ("已写出 {path}（{pages} 页）", "wrote {path} ({pages} pages)"),
    # info
    "crs_line": ("坐标系：{crs}（存储）   度量坐标系：{metric_crs}",
                 "CRS: {crs} (stored)   metric CRS: {metric_crs}"),
    "col_layer": ("图层", "layer"),
    "col_features": ("要素数", "features"),
    "col_geometry": ("几何类型", "geometry"),
    "col_status": ("状态", "status"),
    "col_datum": ("坐标基准", "datum"),
    "col_licence": ("许可", "licence"),
    "sources": ("数据来源：", "Sources:"),
    "note": ("备注", "note"),
    "synthetic": ("合成数据（非真实记录）：{layers}",
                  "Synthetic data (not real records): {layers}"),
    # validate
    "validated": ("{path}（按 {kind} 检查）：{features} 个要素，{errors} 个错误，{warnings} 个警告",
                  "{path} as {kind}: {features} features, {errors} error(s), "
                  "{warnings} warning(s)"),
    "validated_atlas": ("{path}：检查了 {layers} 个图层和表，共 {errors} 个错误",
                        "{path}: {layers} layers and tables checked, {errors} error(s) in all"),
    "severity_error": ("错误", "ERROR"),
    "severity_warning": ("警告", "WARNING"),
    "fix": ("修正", "fix"),
    "valid": ("通过：该图层符合数据模型。", "OK: the layer satisfies the data model."),
    "unknown_kind": ("无法判断 {name} 的图层类型；请加 --kind（可选：{kinds}）。",
                     "cannot guess the layer kind of {name}; pass --kind (one of {kinds})."),
    # errors
    "error": ("cci-geo {command}：错误：{message}", "cci-geo {command}: error: {message}"),
    "exists": ("{path} 已存在；如需替换请加 --overwrite。",
               "{path} already exists; pass --overwrite to replace it."),
    "not_found": ("找不到文件 {path}。", "file {path} not found."),
    "scenario_not_found": ("找不到情景文件 {path}。", "scenario file {path} not found."),
    "missing_lead": ("找不到文件：", "file not found: "),
    "data_error": ("数据有误：", "data error: "),
    "schema_error": ("图层不符合数据模型：", "layer does not fit the data model: "),
    "scenario_error": ("情景文件有误：", "scenario error: "),
    "parameter_error": ("参数有误：", "bad argument: "),
}


def _asked(args: Any) -> str:
    """The language asked for: ``--lang`` (the command's or the global one), else the env."""
    given = getattr(args, "lang", None) or getattr(args, "cli_lang", None)
    return given or os.environ.get("CCI_GEO_LANG", "").strip().lower()[:2]


def cli_lang(args: Any = None) -> str:
    """Return ``"zh"`` or ``"en"``: ``args.lang``, else ``CCI_GEO_LANG``, else ``"en"``.

    Examples
    --------
    >>> import argparse
    >>> cli_lang(argparse.Namespace(lang="zh"))
    'zh'
    """
    return "zh" if _asked(args) == "zh" else "en"


def map_lang(args: Any) -> str:
    """Return the language of maps: ``args.lang``, else ``CCI_GEO_LANG``, else ``"zh"``.

    Examples
    --------
    >>> import argparse
    >>> map_lang(argparse.Namespace(lang="en"))
    'en'
    """
    return "en" if _asked(args) == "en" else "zh"


def msg(key: str, lang: str, **fields: Any) -> str:
    """Return message ``key`` in ``lang`` with ``fields`` filled in (unknown keys as given).

    Examples
    --------
    >>> msg("wrote", "zh", path="a.pdf")
    '已写出 a.pdf'
    """
    zh, en = MESSAGES.get(key, (key, key))
    return (zh if lang == "zh" else en).format(**fields)


def localise_error(exc: BaseException, lang: str) -> str:
    """Return the message of a user error in ``lang``.

    Files that exist or are missing get a whole Chinese sentence; cci_geo errors get a
    Chinese lead naming the kind of problem, followed by the detailed English message (which
    names the layer, column and fix).

    Examples
    --------
    >>> localise_error(FileExistsError("out.csv already exists"), "zh")
    'out.csv 已存在；如需替换请加 --overwrite。'
    """
    for_cli = getattr(exc, "for_cli", None)  # cci_geo errors spell options as flags here
    text = for_cli() if callable(for_cli) else str(exc)
    if lang != "zh":
        return text
    if isinstance(exc, FileExistsError):
        path = text.split(" already exists")[0] if " already exists" in text else text
        return msg("exists", lang, path=path)
    if isinstance(exc, FileNotFoundError):
        scenario = re.fullmatch(r"scenario file (.+) (?:not found|does not exist)\.", text)
        if scenario:
            return msg("scenario_not_found", lang, path=scenario.group(1))
        if not exc.filename:  # the English message names the file: a Chinese lead before it
            return msg("missing_lead", lang) + text
        return f"{msg('not_found', lang, path=exc.filename)} {text}".strip()
    for cls, key in (("SchemaError", "schema_error"), ("ScenarioError", "scenario_error"),
                     ("ParameterError", "parameter_error"), ("DataError", "data_error")):
        if any(c.__name__ == cls for c in type(exc).__mro__):
            return msg(key, lang) + text
    return text

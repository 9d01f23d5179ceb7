"""Every command's --help shows examples; --lang zh and CCI_GEO_LANG give Chinese messages."""

import pytest

from cci_geo.cli.main import COMMANDS, build_parser, main


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_examples(command, capsys):
    argv = [command, "--help"] if command else ["--help"]
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"cci-geo {command}".strip() in out.split("examples:", 1)[1]


@pytest.mark.parametrize("how", ["option", "env"])
def test_errors_in_chinese(how, tmp_path, capsys, monkeypatch):
    argv = ["score", str(tmp_path / "missing.toml")]
    if how == "option":
        argv = ["--lang", "zh", *argv]
    else:
        monkeypatch.setenv("CCI_GEO_LANG", "zh")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "错误" in err and "找不到情景文件" in err and "missing.toml" in err


def test_existing_output_in_chinese(tmp_path, capsys):
    out = tmp_path / "b.html"
    out.write_text("x", encoding="utf-8")
    assert main(["--lang", "zh", "briefing", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "已存在" in err and "--overwrite" in err


def test_english_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CCI_GEO_LANG", raising=False)
    assert main(["score", str(tmp_path / "missing.toml")]) == 1
    assert "error: scenario file" in capsys.readouterr().err

import os

import pytest

from pipeline import run
from tests.conftest import DATA_CSV, brewery, write_csv


def test_main_runs_all_layers(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert run.main(["--input", DATA_CSV, "--out", out]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("bronze: 200 rows (breweries.csv, sha256 ")
    assert lines[1] == ("silver: 183 rows (11 rejected, 6 duplicates, "
                        "6 coordinates nulled)")
    assert lines[2] == "gold: 183 breweries, 8 countries, 29 states, 9 types"
    for layer in ("bronze", "silver", "gold"):
        assert os.path.isdir(os.path.join(out, layer))


def test_reuse_bronze_only_when_input_unchanged(sample_csv, tmp_path):
    out = str(tmp_path / "out")
    logs = []
    first = run.run(sample_csv, out, reuse_bronze=True, log=logs.append)
    assert not first["bronze_cached"]
    second = run.run(sample_csv, out, reuse_bronze=True, log=logs.append)
    assert second["bronze_cached"]
    assert logs[3].endswith(", cached)")
    with open(sample_csv, "a") as fh:
        fh.write(",".join(brewery(id="b-99")) + "\n")
    third = run.run(sample_csv, out, reuse_bronze=True, log=logs.append)
    assert not third["bronze_cached"]
    assert third["bronze"]["rows"] == 9


def test_missing_input_fails(tmp_path, capsys):
    code = run.main(["--input", str(tmp_path / "nope.csv"),
                     "--out", str(tmp_path / "out")])
    assert code == 1
    assert "pipeline: error: input" in capsys.readouterr().err


def test_all_rows_rejected_fails(tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [brewery(name="")])
    assert run.main(["--input", path, "--out", str(tmp_path / "o")]) == 1
    assert "silver layer is empty" in capsys.readouterr().err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        run.main(["--out", "x"])
    assert exc.value.code == 2

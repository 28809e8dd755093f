import json
import os
import shutil

import pytest

from pipeline import verify


@pytest.fixture
def out(real_output, tmp_path):
    copy = str(tmp_path / "out")
    shutil.copytree(real_output, copy)
    return copy


def edit_jsonl(path, fn):
    rows = [json.loads(line) for line in open(path)]
    rows = fn(rows)
    with open(path, "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)


def test_good_output_passes(out, capsys):
    assert verify.check(out, rows_min=150) == []
    assert verify.main(["--out", out, "--rows-min", "150"]) == 0
    assert capsys.readouterr().out.startswith("verify: ok: ")


def test_rows_min(out, capsys):
    assert verify.main(["--out", out, "--rows-min", "1000"]) == 1
    err = capsys.readouterr().err
    assert "verify: FAILED (1 problem)" in err
    assert "silver has 183 rows, fewer than the minimum 1000" in err


def test_missing_files(tmp_path):
    problems = verify.check(str(tmp_path))
    assert len(problems) == len(verify.EXPECTED_FILES)
    assert problems[0] == "missing output file 'bronze/breweries.jsonl'"


def test_null_in_required_column(out):
    def blank(rows):
        rows[3]["name"] = None
        return rows
    edit_jsonl(os.path.join(out, "silver/breweries.jsonl"), blank)
    assert "silver row 4: null in required column 'name'" in \
        verify.check(out)


def test_counts_must_agree(out):
    edit_jsonl(os.path.join(out, "silver/breweries.jsonl"),
               lambda rows: rows[:-1] + [rows[0]])
    edit_jsonl(os.path.join(out, "bronze/breweries.jsonl"),
               lambda rows: rows[:-1])
    problems = verify.check(out)
    assert "silver has duplicate ids" in problems
    assert "bronze manifest says 200 rows, table has 199" in problems
    assert ("bronze has 199 rows but silver accounts for 200 "
            "(rows + rejected + duplicates)") in problems


def test_gold_must_match_silver(out):
    edit_jsonl(os.path.join(out, "silver/breweries.jsonl"),
               lambda rows: rows[:-1])
    with open(os.path.join(out, "gold/by_type.csv"), "a") as fh:
        fh.write("mystery,\n")
    problems = verify.check(out)
    assert "silver manifest says 183 rows, table has 182" in problems
    assert "gold total is 183, silver has 182 rows" in problems
    assert "gold serving table has 183 rows, silver has 182" in problems
    assert ("gold/by_type.csv row 10: null in required column "
            "'breweries'") in problems
    assert "gold/by_country.csv: counts add up to 183, expected 182" in \
        problems


def test_unreadable_output_is_reported(out, capsys):
    with open(os.path.join(out, "gold/summary.json"), "w") as fh:
        fh.write("{")
    assert verify.main(["--out", out]) == 1
    assert "cannot read outputs" in capsys.readouterr().err

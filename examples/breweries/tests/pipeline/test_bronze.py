import json
import os

import pytest

from pipeline import PipelineError, bronze
from tests.conftest import DATA_CSV, brewery, write_csv


def test_read_rows_keeps_raw_values_and_adds_metadata(sample_csv):
    rows = list(bronze.read_rows(sample_csv, "2024-01-01T00:00:00Z"))
    assert len(rows) == 8
    second = rows[1]
    assert second["name"] == "  Hop   Yard "
    assert second["longitude"] == "abc"
    assert second["_source"] == "sample.csv"
    assert second["_line"] == 3
    assert second["_ingested_at"] == "2024-01-01T00:00:00Z"
    assert "_extra" not in second


def test_read_rows_records_extra_fields(tmp_path):
    path = write_csv(tmp_path / "x.csv", [brewery() + ["surprise"]])
    (row,) = bronze.read_rows(path)
    assert row["_extra"] == ["surprise"]


def test_read_rows_fills_short_rows_with_empty_strings(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["b-1", "Short"]])
    (row,) = bronze.read_rows(path)
    assert row["website_url"] == ""


def test_read_rows_rejects_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(PipelineError, match="is empty"):
        list(bronze.read_rows(str(path)))


def test_read_rows_rejects_missing_columns(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["1", "a"]], header=("id", "name"))
    with pytest.raises(PipelineError, match="lacks columns: brewery_type"):
        list(bronze.read_rows(path))


def test_ingest_writes_table_and_manifest(sample_csv, tmp_path):
    out = str(tmp_path / "bronze")
    manifest = bronze.ingest(sample_csv, out, "2024-01-01T00:00:00Z")
    assert manifest["rows"] == 8
    assert manifest["source_sha256"] == bronze.file_sha256(sample_csv)
    assert bronze.load_manifest(out) == manifest
    lines = open(os.path.join(out, bronze.DATA_FILE)).read().splitlines()
    assert len(lines) == 8
    assert json.loads(lines[0])["id"] == "b-1"
    assert bronze.load(out)[0]["name"] == "Test Brewing"


def test_ingest_default_timestamp_is_utc(sample_csv, tmp_path):
    manifest = bronze.ingest(sample_csv, str(tmp_path / "b"))
    assert manifest["ingested_at"].endswith("Z")


def test_cached_manifest_hit_and_misses(sample_csv, tmp_path):
    out = str(tmp_path / "bronze")
    assert bronze.cached_manifest(out, sample_csv) is None
    bronze.ingest(sample_csv, out)
    assert bronze.cached_manifest(out, sample_csv)["rows"] == 8
    other = write_csv(tmp_path / "other.csv", [brewery()])
    assert bronze.cached_manifest(out, other) is None
    os.unlink(os.path.join(out, bronze.DATA_FILE))
    assert bronze.cached_manifest(out, sample_csv) is None


def test_cached_manifest_ignores_corrupt_manifest(sample_csv, tmp_path):
    out = tmp_path / "bronze"
    bronze.ingest(sample_csv, str(out))
    (out / bronze.MANIFEST).write_text("{not json")
    assert bronze.cached_manifest(str(out), sample_csv) is None


def test_real_data_has_two_hundred_raw_rows():
    rows = list(bronze.read_rows(DATA_CSV))
    assert len(rows) == 200
    assert sum(1 for r in rows if "_extra" in r) == 1

import pytest

from app import read_version
from app.store import Store, StoreError
from tests.conftest import DATA_CSV, ROOT


def test_from_csv_runs_the_pipeline_in_memory(sample_csv):
    store = Store.from_csv(sample_csv)
    assert store.summary["total"] == 5
    assert store.source == sample_csv
    assert [b["id"] for b in store.breweries][0] == "b-3"  # Ireland first


def test_from_csv_missing_file(tmp_path):
    with pytest.raises(StoreError, match="cannot build gold data"):
        Store.from_csv(str(tmp_path / "none.csv"))


def test_from_gold_dir(real_output):
    store = Store.from_gold_dir(real_output + "/gold")
    assert store.summary["total"] == 183
    assert len(store.breweries) == 183


def test_from_gold_dir_missing(tmp_path):
    with pytest.raises(StoreError, match="cannot load gold data"):
        Store.from_gold_dir(str(tmp_path))


def test_load_prefers_gold_dir_env(real_output, tmp_path):
    store = Store.load({"GOLD_DIR": real_output + "/gold"}, root=tmp_path)
    assert store.source == real_output + "/gold"


def test_load_uses_built_gold_next_to_the_app(real_output, tmp_path):
    import shutil
    shutil.copytree(real_output + "/gold", str(tmp_path / "gold"))
    store = Store.load({}, root=str(tmp_path))
    assert store.source == str(tmp_path / "gold")


def test_load_falls_back_to_the_csv():
    store = Store.load({}, root=ROOT)
    assert store.source == DATA_CSV
    assert store.summary["total"] == 183


def test_stats_keys(sample_csv):
    stats = Store.from_csv(sample_csv).stats()
    assert set(stats) == {"total", "with_coordinates", "by_country",
                          "by_state", "by_type", "generated_at"}


def test_find_filters_case_insensitively_and_pages(sample_csv):
    store = Store.from_csv(sample_csv)
    total, items = store.find(country="united states")
    assert total == 4
    total, items = store.find(country="UNITED STATES", state="texas",
                              brewery_type="LARGE")
    assert (total, [i["id"] for i in items]) == (1, ["b-7"])
    total, items = store.find(limit=2, offset=1)
    assert total == 5 and len(items) == 2
    assert store.find(country="Mars") == (0, [])


def test_read_version(tmp_path):
    assert read_version() == open(ROOT + "/VERSION").read().strip()
    assert read_version(str(tmp_path)) == "0.0.0+unknown"
    (tmp_path / "VERSION").write_text("\n")
    assert read_version(str(tmp_path)) == "0.0.0+unknown"

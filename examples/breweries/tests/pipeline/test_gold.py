import json
import os

from pipeline import gold


def row(id, country="United States", state="Oregon", brewery_type="micro",
        name=None, lat=45.0):
    return {"id": id, "name": name or "Brewery %s" % id,
            "brewery_type": brewery_type, "city": "X", "state": state,
            "country": country, "latitude": lat, "longitude": 1.0}


ROWS = [
    row("a"), row("b", state="Texas", brewery_type="brewpub"),
    row("c", state="Texas"), row("d", country="Ireland", state=None,
                                 lat=None, name="aaa"),
]


def test_aggregate_counts_and_orders_by_count_then_name():
    s = gold.aggregate(ROWS, "2024-06-01T00:00:00Z")
    assert s["total"] == 4
    assert s["with_coordinates"] == 3
    assert s["generated_at"] == "2024-06-01T00:00:00Z"
    assert s["by_country"] == [
        {"country": "United States", "breweries": 3},
        {"country": "Ireland", "breweries": 1}]
    assert s["by_state"] == [
        {"country": "United States", "state": "Texas", "breweries": 2},
        {"country": "Ireland", "state": "Unknown", "breweries": 1},
        {"country": "United States", "state": "Oregon", "breweries": 1}]
    assert s["by_type"] == [{"brewery_type": "micro", "breweries": 3},
                            {"brewery_type": "brewpub", "breweries": 1}]


def test_aggregate_of_nothing():
    assert gold.aggregate([])["total"] == 0


def test_serving_table_sorted_by_country_then_name():
    ids = [r["id"] for r in gold.serving_table(ROWS)]
    assert ids == ["d", "a", "b", "c"]


def test_write_produces_csv_and_json(tmp_path):
    out = str(tmp_path / "gold")
    summary = gold.write(out, ROWS, "t")
    assert sorted(os.listdir(out)) == [
        "breweries.json", "by_country.csv", "by_state.csv", "by_type.csv",
        "summary.json"]
    text = open(os.path.join(out, "by_country.csv")).read()
    assert text == "country,breweries\nUnited States,3\nIreland,1\n"
    assert gold.read_table(out, "by_type.csv")[0] == {
        "brewery_type": "micro", "breweries": "3"}
    assert gold.load_summary(out) == json.loads(json.dumps(summary))
    assert len(gold.load_serving(out)) == 4


def test_real_data_gold(real_output):
    s = gold.load_summary(real_output + "/gold")
    assert s["total"] == 183
    assert s["by_country"][0] == {"country": "United States",
                                  "breweries": 143}
    assert sum(c["breweries"] for c in s["by_type"]) == 183

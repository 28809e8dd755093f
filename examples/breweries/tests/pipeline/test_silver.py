import pytest

from pipeline import bronze, silver


@pytest.mark.parametrize("raw, want", [
    (None, None), ("", None), ("   ", None), ("  a   b ", "a b"), (5, "5"),
])
def test_clean_text(raw, want):
    assert silver.clean_text(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("PORTLAND", "Portland"), ("fort collins", "Fort Collins"),
    ("ST. LOUIS", "St. Louis"), ("KRAKÓW", "Kraków"),
    ("McMinnville", "McMinnville"), ("123", "123"), (None, None),
])
def test_fix_case(raw, want):
    assert silver.fix_case(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("USA", "United States"), (" united states ", "United States"),
    ("US", "United States"), ("ireland", "Ireland"),
    ("South Korea", "South Korea"), ("", None),
])
def test_normalise_country(raw, want):
    assert silver.normalise_country(raw) == want


def test_normalise_state_expands_us_abbreviations_only():
    assert silver.normalise_state("or", "United States") == "Oregon"
    assert silver.normalise_state("OREGON", "United States") == "Oregon"
    assert silver.normalise_state("CO", "Ireland") == "Co"
    assert silver.normalise_state(" ", "Ireland") is None


@pytest.mark.parametrize("raw, limit, want", [
    ("45.5", 90, 45.5), ("-122.123456789", 180, -122.1234568),
    ("95.3", 90, None), ("-190", 180, None), ("abc", 90, None),
    ("N/A", 90, None), ("nan", 90, None), ("12,5", 90, None),
    ("", 90, None),
])
def test_parse_coord(raw, limit, want):
    assert silver.parse_coord(raw, limit) == want


@pytest.mark.parametrize("raw, want", [
    ("(503) 555-0100", "5035550100"), ("+353 1 555 0102", "+35315550102"),
    ("555", None), ("", None), ("1" * 16, None),
])
def test_normalise_phone(raw, want):
    assert silver.normalise_phone(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("www.x.com", "http://www.x.com"),
    ("HTTPS://Example.org/beer", "https://Example.org/beer"),
    ("ftp://x.com", None), ("not a url", None), ("", None),
])
def test_normalise_url(raw, want):
    assert silver.normalise_url(raw) == want


def raw(**over):
    base = {"id": "b-1", "name": "A", "brewery_type": "micro",
            "city": "Bend", "state": "OR", "country": "US",
            "longitude": "-121.3", "latitude": "44.0", "phone": "",
            "website_url": "", "_line": 2}
    base.update(over)
    return base


def test_clean_record_normalises_types():
    row, reason = silver.clean_record(raw(latitude="44.05"))
    assert reason is None
    assert row == {"id": "b-1", "name": "A", "brewery_type": "micro",
                   "city": "Bend", "state": "Oregon",
                   "country": "United States", "longitude": -121.3,
                   "latitude": 44.05, "phone": None, "website_url": None,
                   "source_line": 2}


def test_clean_record_nulls_both_coordinates_when_one_is_bad():
    row, _ = silver.clean_record(raw(latitude="91"))
    assert row["longitude"] is None and row["latitude"] is None


@pytest.mark.parametrize("over, reason", [
    ({"name": " "}, "missing required field 'name'"),
    ({"city": ""}, "missing required field 'city'"),
    ({"country": ""}, "missing required field 'country'"),
    ({"id": ""}, "missing required field 'id'"),
    ({"brewery_type": ""}, "missing required field 'brewery_type'"),
    ({"brewery_type": "taproom"}, "unknown brewery_type 'taproom'"),
    ({"id": "bad id!"}, "invalid id 'bad id!'"),
    ({"_extra": ["x", "y"]}, "malformed row: 2 unexpected field(s)"),
])
def test_clean_record_rejections(over, reason):
    assert silver.clean_record(raw(**over)) == (None, reason)


def test_clean_sample(sample_csv):
    rows, rejects, stats = silver.clean(list(bronze.read_rows(sample_csv)))
    assert [r["id"] for r in rows] == ["b-1", "b-2", "b-3", "b-6", "b-7"]
    assert rows[0]["name"] == "Test Brewing"  # the first of the dupes
    hop = rows[1]
    assert (hop["name"], hop["brewery_type"], hop["city"], hop["state"],
            hop["country"]) == ("Hop Yard", "brewpub", "Denver",
                                "Colorado", "United States")
    assert hop["longitude"] is None and hop["latitude"] is None
    assert hop["website_url"] == "http://www.hopyard.com"
    assert rows[3]["state"] is None
    assert [r["reason"] for r in rejects] == [
        "missing required field 'name'", "unknown brewery_type 'speakeasy'"]
    assert rejects[0]["line"] == 6
    assert stats == {"rows": 5, "rejected": 2, "duplicates": 1,
                     "coordinates_nulled": 1, "input_rows": 8}


def test_write_and_load_round_trip(sample_csv, tmp_path):
    rows, rejects, stats = silver.clean(list(bronze.read_rows(sample_csv)))
    out = str(tmp_path / "silver")
    silver.write(out, rows, rejects, stats)
    assert silver.load(out) == rows
    assert silver.load_manifest(out) == stats


def test_real_data_counts(real_output):
    stats = silver.load_manifest(real_output + "/silver")
    assert stats == {"rows": 183, "rejected": 11, "duplicates": 6,
                     "coordinates_nulled": 6, "input_rows": 200}

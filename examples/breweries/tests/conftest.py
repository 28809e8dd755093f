import csv
import os

import pytest

from pipeline import COLUMNS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_CSV = os.path.join(ROOT, "data", "breweries.csv")


def write_csv(path, rows, header=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
    return str(path)


def brewery(id="b-1", name="Test Brewing", brewery_type="micro",
            city="Portland", state="Oregon", country="United States",
            longitude="-122.6", latitude="45.5", phone="5035550100",
            website_url="http://www.test.com"):
    return [id, name, brewery_type, city, state, country, longitude,
            latitude, phone, website_url]


@pytest.fixture
def sample_csv(tmp_path):
    """Eight rows: five good (one noisy), one duplicate, two rejects."""
    rows = [
        brewery(),
        brewery(id="b-2", name="  Hop   Yard ", brewery_type=" BREWPUB ",
                city="DENVER", state="co", country="USA",
                longitude="abc", latitude="39.7",
                phone="(303) 555-0101", website_url="www.hopyard.com"),
        brewery(id="b-3", name="Liffey Ales", city="dublin",
                state="Dublin", country="Ireland", longitude="-6.26",
                latitude="53.35", phone="+353 1 555 0102",
                website_url=""),
        brewery(id="B-1 ", name="Test Brewing Again"),
        brewery(id="b-4", name=""),
        brewery(id="b-5", name="Mystery", brewery_type="speakeasy"),
        brewery(id="b-6", name="Nowhere Brewing", state="", longitude="",
                latitude=""),
        brewery(id="b-7", name="Big Beer", brewery_type="large",
                city="Austin", state="Texas"),
    ]
    return write_csv(tmp_path / "sample.csv", rows)


@pytest.fixture(scope="session")
def real_output(tmp_path_factory):
    """The pipeline run once over the committed data set."""
    from pipeline.run import run
    out = str(tmp_path_factory.mktemp("out"))
    run(DATA_CSV, out, ingested_at="2024-06-01T00:00:00Z",
        log=lambda *a: None)
    return out

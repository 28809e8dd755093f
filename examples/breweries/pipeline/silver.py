"""Silver layer: clean, validate, normalise types and de-duplicate.

Rules: whitespace is collapsed; all-upper/all-lower city and state names
are title-cased; US state abbreviations and country spellings are mapped to
one form; coordinates become floats (both null when either is unusable);
phone keeps digits and a leading '+'; websites get a scheme.  Rows missing a
required field or with an unknown type are rejected with a reason; repeated
ids (case and whitespace ignored) keep the first occurrence.
"""
import math
import os
import re

from pipeline import COLUMNS, REQUIRED
from pipeline.io import read_json, read_jsonl, write_json, write_jsonl

DATA_FILE = "breweries.jsonl"
REJECTS_FILE = "rejects.jsonl"
MANIFEST = "_manifest.json"

BREWERY_TYPES = frozenset((
    "micro", "nano", "regional", "brewpub", "large", "planning", "bar",
    "contract", "proprietor", "closed"))

COUNTRY_ALIASES = {
    "us": "United States", "usa": "United States", "u.s.": "United States",
    "u.s.a.": "United States", "united states": "United States",
    "united states of america": "United States",
    "uk": "United Kingdom", "united kingdom": "United Kingdom",
}

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas",
    "CA": "California", "CO": "Colorado", "CT": "Connecticut",
    "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida",
    "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky",
    "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
    "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
URL_RE = re.compile(r"^https?://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$", re.I)


def clean_text(value):
    """Collapse runs of whitespace; empty becomes None."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def fix_case(value):
    """Title-case a name written all upper or all lower case; keep mixed
    case as it is ('McMinnville', 'Coeur d'Alene')."""
    if value is None or not any(c.isalpha() for c in value):
        return value
    if value.isupper() or value.islower():
        return " ".join(w[:1].upper() + w[1:].lower() for w in value.split())
    return value


def normalise_country(value):
    text = clean_text(value)
    if text is None:
        return None
    return COUNTRY_ALIASES.get(text.lower(), fix_case(text))


def normalise_state(value, country):
    text = clean_text(value)
    if text is None:
        return None
    if country == "United States" and text.upper() in US_STATES:
        return US_STATES[text.upper()]
    return fix_case(text)


def parse_coord(value, limit):
    """A float within [-limit, limit], or None."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if math.isnan(number) or abs(number) > limit:
        return None
    return round(number, 7)


def normalise_phone(value):
    text = clean_text(value)
    if text is None:
        return None
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 7 or len(digits) > 15:
        return None
    return ("+" + digits) if text.startswith("+") else digits


def normalise_url(value):
    text = clean_text(value)
    if text is None:
        return None
    if text.lower().startswith("www."):
        text = "http://" + text
    if not URL_RE.match(text):
        return None
    scheme, rest = text.split("://", 1)
    return scheme.lower() + "://" + rest


def clean_record(raw):
    """Return (row, None) for a valid raw record or (None, reason)."""
    if raw.get("_extra"):
        return None, "malformed row: %d unexpected field(s)" % len(
            raw["_extra"])
    row = {
        "id": (clean_text(raw.get("id")) or "").lower() or None,
        "name": clean_text(raw.get("name")),
        "brewery_type": (clean_text(raw.get("brewery_type")) or "").lower()
        or None,
        "city": fix_case(clean_text(raw.get("city"))),
        "country": normalise_country(raw.get("country")),
    }
    for field in REQUIRED:
        if row[field] is None:
            return None, "missing required field '%s'" % field
    if not ID_RE.match(row["id"]):
        return None, "invalid id '%s'" % row["id"]
    if row["brewery_type"] not in BREWERY_TYPES:
        return None, "unknown brewery_type '%s'" % row["brewery_type"]
    row["state"] = normalise_state(raw.get("state"), row["country"])
    lon = parse_coord(raw.get("longitude"), 180.0)
    lat = parse_coord(raw.get("latitude"), 90.0)
    if lon is None or lat is None:
        lon = lat = None
    row["longitude"], row["latitude"] = lon, lat
    row["phone"] = normalise_phone(raw.get("phone"))
    row["website_url"] = normalise_url(raw.get("website_url"))
    row["source_line"] = raw.get("_line")
    return {k: row[k] for k in COLUMNS + ("source_line",)}, None


def clean(records):
    """Clean bronze records; return (rows, rejects, stats)."""
    rows, rejects, seen = [], [], set()
    stats = {"duplicates": 0, "coordinates_nulled": 0}
    for raw in records:
        row, reason = clean_record(raw)
        if row is None:
            rejects.append({"line": raw.get("_line"), "reason": reason,
                            "record": raw})
            continue
        if row["id"] in seen:
            stats["duplicates"] += 1
            continue
        seen.add(row["id"])
        had_coords = clean_text(raw.get("longitude")) or clean_text(
            raw.get("latitude"))
        if had_coords and row["longitude"] is None:
            stats["coordinates_nulled"] += 1
        rows.append(row)
    stats["rows"] = len(rows)
    stats["rejected"] = len(rejects)
    stats["input_rows"] = len(records)
    return rows, rejects, stats


def write(silver_dir, rows, rejects, stats):
    write_jsonl(os.path.join(silver_dir, DATA_FILE), rows)
    write_jsonl(os.path.join(silver_dir, REJECTS_FILE), rejects)
    write_json(os.path.join(silver_dir, MANIFEST), stats)
    return stats


def load(silver_dir):
    return read_jsonl(os.path.join(silver_dir, DATA_FILE))


def load_manifest(silver_dir):
    return read_json(os.path.join(silver_dir, MANIFEST))

"""Generate data/breweries.csv deterministically (run once, commit the output).

The data is synthetic but shaped like Open Brewery DB exports, with a known
set of dirty rows so that the silver layer has real work to do:
whitespace and case noise, state abbreviations, country spellings, bad
coordinates, missing required fields, unknown types, a malformed row and
duplicate ids.  Usage: python3 tools/gen_breweries.py [OUT_CSV]
"""
import csv
import random
import sys
import uuid

SEED = 20240601
UNIQUE_ROWS = 194
HEADER = ["id", "name", "brewery_type", "city", "state", "country",
          "longitude", "latitude", "phone", "website_url"]

US = "United States"
CITIES = [
    (US, "Oregon", "Portland", 45.5152, -122.6784, 9),
    (US, "Oregon", "Bend", 44.0582, -121.3153, 4),
    (US, "Washington", "Seattle", 47.6062, -122.3321, 7),
    (US, "Washington", "Spokane", 47.6588, -117.4260, 2),
    (US, "California", "San Diego", 32.7157, -117.1611, 8),
    (US, "California", "San Francisco", 37.7749, -122.4194, 5),
    (US, "California", "Sacramento", 38.5816, -121.4944, 3),
    (US, "Colorado", "Denver", 39.7392, -104.9903, 7),
    (US, "Colorado", "Fort Collins", 40.5853, -105.0844, 4),
    (US, "Colorado", "Boulder", 40.0150, -105.2705, 3),
    (US, "North Carolina", "Asheville", 35.5951, -82.5515, 5),
    (US, "North Carolina", "Raleigh", 35.7796, -78.6382, 2),
    (US, "Texas", "Austin", 30.2672, -97.7431, 5),
    (US, "Texas", "Houston", 29.7604, -95.3698, 3),
    (US, "Illinois", "Chicago", 41.8781, -87.6298, 6),
    (US, "Michigan", "Grand Rapids", 42.9634, -85.6681, 4),
    (US, "Wisconsin", "Milwaukee", 43.0389, -87.9065, 3),
    (US, "Vermont", "Burlington", 44.4759, -73.2121, 3),
    (US, "Maine", "Portland", 43.6591, -70.2568, 3),
    (US, "Massachusetts", "Boston", 42.3601, -71.0589, 4),
    (US, "Pennsylvania", "Philadelphia", 39.9526, -75.1652, 4),
    (US, "New York", "Brooklyn", 40.6782, -73.9442, 4),
    (US, "Minnesota", "Minneapolis", 44.9778, -93.2650, 4),
    (US, "Missouri", "St. Louis", 38.6270, -90.1994, 3),
    (US, "Missouri", "Kansas City", 39.0997, -94.5786, 2),
    (US, "Ohio", "Cincinnati", 39.1031, -84.5120, 3),
    (US, "Florida", "Tampa", 27.9506, -82.4572, 3),
    (US, "Virginia", "Richmond", 37.5407, -77.4360, 3),
    ("Ireland", "Dublin", "Dublin", 53.3498, -6.2603, 4),
    ("Ireland", "Cork", "Cork", 51.8985, -8.4756, 2),
    ("Ireland", "Galway", "Galway", 53.2707, -9.0568, 2),
    ("England", "Greater London", "London", 51.5072, -0.1276, 5),
    ("England", "Greater Manchester", "Manchester", 53.4808, -2.2426, 2),
    ("England", "Bristol", "Bristol", 51.4545, -2.5879, 2),
    ("Scotland", "Edinburgh", "Edinburgh", 55.9533, -3.1883, 2),
    ("Germany", "Bavaria", "Munich", 48.1351, 11.5820, 3),
    ("Germany", "Berlin", "Berlin", 52.5200, 13.4050, 2),
    ("Austria", "Vienna", "Vienna", 48.2082, 16.3738, 2),
    ("Poland", "Lesser Poland", "Kraków", 50.0647, 19.9450, 2),
    ("South Korea", "Seoul", "Seoul", 37.5665, 126.9780, 2),
]
ABBREV = {"Oregon": "OR", "Washington": "WA", "California": "CA",
          "Colorado": "CO", "Texas": "TX", "Illinois": "IL",
          "New York": "NY", "Michigan": "MI"}
PREFIXES = [
    "Cascade", "Iron Horse", "Blue Heron", "Copper Kettle", "Red Barn",
    "Old Mill", "Hidden Valley", "Black Bear", "Wild Goose", "Three Rivers",
    "Lost Coast", "Stone Bridge", "Golden Road", "Silver Creek",
    "Twin Peaks", "Harbor Light", "Foggy Bottom", "Rusty Anchor",
    "Thunder Ridge", "Crooked Fence", "Lucky Dog", "Northern Pine",
    "Salt Marsh", "Long Table", "Barrel House", "Driftwood",
    "Mountain Goat", "Pale Horse", "Broken Compass", "High Desert",
    "Sleeping Giant", "Wandering Monk", "Tall Ships", "Seven Hills",
    "Brick & Mortar", "Jolly Fox", "Night Owl", "Open Road", "Little Beast",
    "Prairie Fire", "Smith, Jones & Sons",
]
SUFFIXES = ["Brewing Company", "Brewing Co.", "Brewery", "Beer Works",
            "Brewhouse", "Ales", "Craft Brewery", "Taproom",
            "Fermentation Project", "Aleworks"]
TYPES = [("micro", 45), ("brewpub", 20), ("planning", 8), ("regional", 7),
         ("nano", 6), ("contract", 4), ("large", 3), ("proprietor", 3),
         ("closed", 4)]
TLD = {US: ".com", "Ireland": ".ie", "England": ".co.uk",
       "Scotland": ".co.uk", "Germany": ".de", "Austria": ".at",
       "Poland": ".pl", "South Korea": ".kr"}
DIAL = {"Ireland": "+353", "England": "+44", "Scotland": "+44",
        "Germany": "+49", "Austria": "+43", "Poland": "+48",
        "South Korea": "+82"}


def weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def slug(name):
    return "".join(c for c in name.lower() if c.isalnum())


def make_row(rng, names):
    while True:
        name = "%s %s" % (rng.choice(PREFIXES), rng.choice(SUFFIXES))
        if name not in names:
            names.add(name)
            break
    country, state, city, lat, lon, _ = rng.choices(
        CITIES, [c[5] for c in CITIES])[0]
    if country == US:
        phone = "%03d555%04d" % (rng.randint(201, 989), rng.randint(0, 9999))
    else:
        phone = "%s %d %03d %04d" % (DIAL[country], rng.randint(1, 99),
                                     rng.randint(100, 999),
                                     rng.randint(0, 9999))
    if rng.random() < 0.1:
        phone = ""
    site = "http://www.%s%s" % (slug(name)[:24], TLD[country])
    if rng.random() < 0.12:
        site = ""
    coords = ("%.7f" % (lon + rng.uniform(-0.08, 0.08)),
              "%.7f" % (lat + rng.uniform(-0.08, 0.08)))
    if rng.random() < 0.05:
        coords = ("", "")
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": name, "brewery_type": weighted(rng, TYPES), "city": city,
        "state": state, "country": country, "longitude": coords[0],
        "latitude": coords[1], "phone": phone, "website_url": site,
    }


def add_noise(rng, row):
    """Whitespace and case noise the silver layer must undo."""
    kind = rng.randrange(7)
    if kind == 0:
        row["name"] = "  %s " % row["name"].replace(" ", "  ", 1)
    elif kind == 1:
        row["city"] = row["city"].upper()
    elif kind == 2:
        row["city"] = " %s" % row["city"].lower()
    elif kind == 3:
        row["brewery_type"] = " %s " % row["brewery_type"].upper()
    elif kind == 4 and row["country"] == US:
        row["country"] = rng.choice(["united states", "USA", "US",
                                     " United States "])
    elif kind == 5 and row["state"] in ABBREV:
        row["state"] = ABBREV[row["state"]]
    elif kind == 6 and row["phone"] and row["country"] == US:
        p = row["phone"]
        row["phone"] = "(%s) %s-%s" % (p[:3], p[3:6], p[6:])
    else:
        row["state"] = row["state"].upper()


def generate():
    rng = random.Random(SEED)
    names = set()
    rows = [make_row(rng, names) for _ in range(UNIQUE_ROWS)]
    for i in rng.sample(range(UNIQUE_ROWS), 40):
        add_noise(rng, rows[i])
    victims = iter(rng.sample(range(UNIQUE_ROWS), 26))
    # bad coordinates: the row is kept, the coordinates become null
    for lon, lat in [("abc", "45.1"), ("-122.5", "N/A"), ("-190.5", "40.1"),
                     ("-80.2", "95.3"), ("181", "-91"), ("12,5", "48,1")]:
        r = rows[next(victims)]
        r["longitude"], r["latitude"] = lon, lat
    # rows the silver layer must reject
    for field, value in [("name", ""), ("name", "   "), ("name", ""),
                         ("city", ""), ("city", " "), ("country", ""),
                         ("country", ""), ("brewery_type", "taproom"),
                         ("brewery_type", "unknown"), ("id", "")]:
        rows[next(victims)][field] = value
    malformed = rows[next(victims)]
    # website without a scheme: fixed, not rejected
    for _ in range(3):
        r = rows[next(victims)]
        if r["website_url"]:
            r["website_url"] = r["website_url"].replace("http://", "")
    bad = set(id(r) for r in rows if not all(
        r[f].strip() for f in ("id", "name", "city", "country")))
    bad.add(id(malformed))
    candidates = [r for r in rows if id(r) not in bad
                  and r["brewery_type"].strip().lower() in dict(TYPES)]
    dupes = []
    for n, src in enumerate(rng.sample(candidates, 6)):
        d = dict(src)
        if n % 3 == 1:
            d["id"] = " %s " % d["id"].upper()
            d["name"] = d["name"].upper()
        elif n % 3 == 2:
            d["phone"] = ""
        dupes.append(d)
    out = rows[:]
    for n, d in enumerate(dupes):
        out.insert(60 + n * 23, d)
    return out, malformed


def main(argv):
    path = argv[1] if len(argv) > 1 else "data/breweries.csv"
    rows, malformed = generate()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            vals = [r[h] for h in HEADER]
            if r is malformed:
                vals.append("unexpected-extra-column")
            w.writerow(vals)
    print("wrote %d rows to %s" % (len(rows), path))


if __name__ == "__main__":
    main(sys.argv)

"""Gold layer: aggregates over the silver table, as CSV and JSON.

Writes breweries per country, per state and per type (CSV each), a
summary.json holding all three plus totals, and breweries.json, the sorted
serving table the web app reads.  It computes nothing from bronze.
"""
import collections
import csv
import io
import os

from pipeline.io import read_json, write_atomic, write_json

UNKNOWN = "Unknown"
SUMMARY = "summary.json"
SERVING = "breweries.json"
TABLES = {
    "by_country": ("country",),
    "by_state": ("country", "state"),
    "by_type": ("brewery_type",),
}


def _count(rows, keys):
    counter = collections.Counter(
        tuple(r.get(k) or UNKNOWN for k in keys) for r in rows)
    ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return [dict(zip(keys + ("breweries",), key + (n,)))
            for key, n in ordered]


def aggregate(rows, generated_at=None):
    """Return the summary dict for the cleaned rows."""
    return {
        "generated_at": generated_at,
        "total": len(rows),
        "with_coordinates": sum(1 for r in rows
                                if r.get("latitude") is not None),
        **{name: _count(rows, keys) for name, keys in TABLES.items()},
    }


def serving_table(rows):
    return sorted(rows, key=lambda r: (r["country"], r["name"].lower(),
                                       r["id"]))


def _csv_text(records, columns):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def write(gold_dir, rows, generated_at=None):
    summary = aggregate(rows, generated_at)
    for name, keys in TABLES.items():
        write_atomic(os.path.join(gold_dir, name + ".csv"),
                     _csv_text(summary[name], keys + ("breweries",)))
    write_json(os.path.join(gold_dir, SUMMARY), summary)
    write_json(os.path.join(gold_dir, SERVING), serving_table(rows))
    return summary


def load_summary(gold_dir):
    return read_json(os.path.join(gold_dir, SUMMARY))


def load_serving(gold_dir):
    return read_json(os.path.join(gold_dir, SERVING))


def read_table(gold_dir, name):
    with open(os.path.join(gold_dir, name), encoding="utf-8",
              newline="") as fh:
        return list(csv.DictReader(fh))

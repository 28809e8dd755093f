"""Bronze layer: ingest the raw CSV as-is into JSON lines.

Every value stays a string exactly as read (no cleaning here); each record
gets ingestion metadata: _source, _line, _ingested_at, and _extra when the
row had more fields than the header.
"""
import csv
import datetime
import hashlib
import os

from pipeline import COLUMNS, PipelineError
from pipeline.io import read_json, read_jsonl, write_json, write_jsonl

DATA_FILE = "breweries.jsonl"
MANIFEST = "_manifest.json"


def utc_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def read_rows(path, ingested_at=None):
    """Yield raw records from the CSV at path, with ingestion metadata."""
    ingested_at = ingested_at or utc_now()
    source = os.path.basename(path)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, restkey="_extra")
        header = reader.fieldnames
        if not header:
            raise PipelineError("input '%s' is empty" % path)
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise PipelineError("input '%s' lacks columns: %s"
                                % (path, ", ".join(missing)))
        for raw in reader:
            record = {c: (raw.get(c) or "") for c in COLUMNS}
            if raw.get("_extra"):
                record["_extra"] = raw["_extra"]
            record["_source"] = source
            record["_line"] = reader.line_num
            record["_ingested_at"] = ingested_at
            yield record


def ingest(input_path, bronze_dir, ingested_at=None):
    """Write the bronze table and its manifest; return the manifest."""
    ingested_at = ingested_at or utc_now()
    records = list(read_rows(input_path, ingested_at))
    rows = write_jsonl(os.path.join(bronze_dir, DATA_FILE), records)
    manifest = {
        "source": input_path,
        "source_sha256": file_sha256(input_path),
        "rows": rows,
        "ingested_at": ingested_at,
    }
    write_json(os.path.join(bronze_dir, MANIFEST), manifest)
    return manifest


def cached_manifest(bronze_dir, input_path):
    """The manifest of an existing bronze table built from the same input
    bytes, or None when it is absent, unreadable or stale."""
    try:
        manifest = read_json(os.path.join(bronze_dir, MANIFEST))
    except (OSError, ValueError):
        return None
    if not os.path.isfile(os.path.join(bronze_dir, DATA_FILE)):
        return None
    if manifest.get("source_sha256") != file_sha256(input_path):
        return None
    return manifest


def load(bronze_dir):
    return read_jsonl(os.path.join(bronze_dir, DATA_FILE))


def load_manifest(bronze_dir):
    return read_json(os.path.join(bronze_dir, MANIFEST))

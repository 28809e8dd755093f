"""Breweries data pipeline: bronze (raw) -> silver (clean) -> gold (sums).

Layout of an output directory OUT:
  OUT/bronze/breweries.jsonl  raw rows as read, plus ingestion metadata
  OUT/bronze/_manifest.json   source path, sha256, row count, ingestion time
  OUT/silver/breweries.jsonl  cleaned, typed, de-duplicated rows
  OUT/silver/rejects.jsonl    rows that failed validation, with the reason
  OUT/silver/_manifest.json   counts (rows, rejected, duplicates, ...)
  OUT/gold/by_country.csv, by_state.csv, by_type.csv, summary.json,
  OUT/gold/breweries.json     the serving table the web app reads
"""

__all__ = ["COLUMNS", "REQUIRED", "PipelineError"]

COLUMNS = ("id", "name", "brewery_type", "city", "state", "country",
           "longitude", "latitude", "phone", "website_url")
REQUIRED = ("id", "name", "brewery_type", "city", "country")


class PipelineError(Exception):
    """A problem with the input or outputs that stops the pipeline."""

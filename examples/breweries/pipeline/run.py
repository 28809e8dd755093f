"""Command line: run bronze -> silver -> gold and print row counts per layer.

  python3 -m pipeline.run --input data/breweries.csv --out OUT_DIR

--reuse-bronze keeps an existing OUT_DIR/bronze built from the same input
bytes (CI restores it from a cache).  Exit status: 0 on success, 1 when a
layer fails, 2 on bad usage.
"""
import argparse
import os
import sys

from pipeline import PipelineError, bronze, gold, silver


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m pipeline.run",
        description="Run the breweries bronze/silver/gold pipeline.")
    parser.add_argument("--input", required=True, help="raw CSV file")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--reuse-bronze", action="store_true",
                        help="reuse OUT/bronze if built from the same input")
    parser.add_argument("--ingested-at", default=None,
                        help="ingestion timestamp (default: now, UTC)")
    return parser.parse_args(argv)


def run(input_path, out_dir, reuse_bronze=False, ingested_at=None,
        log=print):
    """Run all three layers; return a dict of per-layer results."""
    if not os.path.isfile(input_path):
        raise PipelineError("input '%s' does not exist" % input_path)
    bronze_dir = os.path.join(out_dir, "bronze")
    manifest = bronze.cached_manifest(bronze_dir, input_path) \
        if reuse_bronze else None
    cached = manifest is not None
    if not cached:
        manifest = bronze.ingest(input_path, bronze_dir, ingested_at)
    log("bronze: %d rows (%s, sha256 %s%s)" % (
        manifest["rows"], os.path.basename(input_path),
        manifest["source_sha256"][:12], ", cached" if cached else ""))

    rows, rejects, stats = silver.clean(bronze.load(bronze_dir))
    silver.write(os.path.join(out_dir, "silver"), rows, rejects, stats)
    log("silver: %d rows (%d rejected, %d duplicates, %d coordinates "
        "nulled)" % (stats["rows"], stats["rejected"], stats["duplicates"],
                     stats["coordinates_nulled"]))
    if not rows:
        raise PipelineError("silver layer is empty: every row was rejected")

    summary = gold.write(os.path.join(out_dir, "gold"), rows,
                         manifest["ingested_at"])
    log("gold: %d breweries, %d countries, %d states, %d types" % (
        summary["total"], len(summary["by_country"]),
        len(summary["by_state"]), len(summary["by_type"])))
    return {"bronze": manifest, "silver": stats, "gold": summary,
            "bronze_cached": cached}


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args.input, args.out, args.reuse_bronze, args.ingested_at)
    except (PipelineError, OSError, ValueError) as exc:
        print("pipeline: error: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

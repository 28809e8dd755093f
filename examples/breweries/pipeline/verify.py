"""Check a pipeline output directory: files exist, row counts agree across
layers, required columns have no nulls, and silver has at least --rows-min
rows.  Prints every problem found; exit 1 if any, 0 if none.

  python3 -m pipeline.verify --out OUT_DIR [--rows-min N]
"""
import argparse
import os
import sys

from pipeline import REQUIRED, bronze, gold, silver

EXPECTED_FILES = (
    "bronze/breweries.jsonl", "bronze/_manifest.json",
    "silver/breweries.jsonl", "silver/rejects.jsonl",
    "silver/_manifest.json",
    "gold/by_country.csv", "gold/by_state.csv", "gold/by_type.csv",
    "gold/summary.json", "gold/breweries.json",
)


def _nulls(rows, columns, where):
    problems = []
    for i, row in enumerate(rows, 1):
        for col in columns:
            if row.get(col) in (None, ""):
                problems.append("%s row %d: null in required column '%s'"
                                % (where, i, col))
    return problems


def _table_total(gold_dir, name, keys, expected):
    table = gold.read_table(gold_dir, name)
    problems = _nulls(table, keys + ("breweries",), "gold/" + name)
    total = sum(int(r["breweries"] or 0) for r in table)
    if total != expected:
        problems.append("gold/%s: counts add up to %d, expected %d"
                        % (name, total, expected))
    return problems


def check(out_dir, rows_min=0):
    """Return a list of problems (empty when the outputs are good)."""
    missing = [f for f in EXPECTED_FILES
               if not os.path.isfile(os.path.join(out_dir, f))]
    if missing:
        return ["missing output file '%s'" % f for f in missing]
    problems = []
    b_dir, s_dir, g_dir = (os.path.join(out_dir, d)
                           for d in ("bronze", "silver", "gold"))
    raw = bronze.load(b_dir)
    manifest = bronze.load_manifest(b_dir)
    rows = silver.load(s_dir)
    stats = silver.load_manifest(s_dir)
    summary = gold.load_summary(g_dir)
    serving = gold.load_serving(g_dir)
    if manifest.get("rows") != len(raw):
        problems.append("bronze manifest says %s rows, table has %d"
                        % (manifest.get("rows"), len(raw)))
    accounted = stats.get("rows", -1) + stats.get("rejected", 0) + \
        stats.get("duplicates", 0)
    if accounted != len(raw):
        problems.append("bronze has %d rows but silver accounts for %d "
                        "(rows + rejected + duplicates)"
                        % (len(raw), accounted))
    if stats.get("rows") != len(rows):
        problems.append("silver manifest says %s rows, table has %d"
                        % (stats.get("rows"), len(rows)))
    if len(rows) < rows_min:
        problems.append("silver has %d rows, fewer than the minimum %d"
                        % (len(rows), rows_min))
    problems += _nulls(rows, REQUIRED, "silver")
    if len(set(r["id"] for r in rows)) != len(rows):
        problems.append("silver has duplicate ids")
    if summary.get("total") != len(rows):
        problems.append("gold total is %s, silver has %d rows"
                        % (summary.get("total"), len(rows)))
    if len(serving) != len(rows):
        problems.append("gold serving table has %d rows, silver has %d"
                        % (len(serving), len(rows)))
    problems += _nulls(serving, REQUIRED, "gold/breweries.json")
    for name, keys in gold.TABLES.items():
        problems += _table_total(g_dir, name + ".csv", keys, len(rows))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m pipeline.verify")
    parser.add_argument("--out", required=True, help="pipeline output dir")
    parser.add_argument("--rows-min", type=int, default=0,
                        help="minimum number of silver rows")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        problems = check(args.out, args.rows_min)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problems = ["cannot read outputs: %s" % exc]
    if problems:
        print("verify: FAILED (%d problem%s) in %s" % (
            len(problems), "" if len(problems) == 1 else "s", args.out),
            file=sys.stderr)
        for p in problems[:50]:
            print("  - " + p, file=sys.stderr)
        return 1
    print("verify: ok: %s (rows_min %d)" % (args.out, args.rows_min))
    return 0


if __name__ == "__main__":
    sys.exit(main())

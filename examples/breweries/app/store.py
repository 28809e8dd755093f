"""In-memory view of the gold data that the HTTP handlers query.

Loads GOLD_DIR (summary.json + breweries.json) when given; otherwise
ROOT/gold when a build put it there; otherwise runs the pipeline in memory
on ROOT/data/breweries.csv.  It never writes anything.
"""
import os

from app import ROOT
from pipeline import bronze, gold, silver


class StoreError(Exception):
    """The gold data could not be loaded."""


class Store:
    def __init__(self, summary, breweries, source):
        self.summary = summary
        self.breweries = breweries
        self.source = source

    @classmethod
    def from_gold_dir(cls, gold_dir):
        try:
            return cls(gold.load_summary(gold_dir),
                       gold.load_serving(gold_dir), gold_dir)
        except (OSError, ValueError) as exc:
            raise StoreError("cannot load gold data from '%s': %s"
                             % (gold_dir, exc)) from exc

    @classmethod
    def from_csv(cls, csv_path):
        try:
            rows, _, _ = silver.clean(list(bronze.read_rows(csv_path)))
        except (OSError, ValueError) as exc:
            raise StoreError("cannot build gold data from '%s': %s"
                             % (csv_path, exc)) from exc
        return cls(gold.aggregate(rows), gold.serving_table(rows), csv_path)

    @classmethod
    def load(cls, env=None, root=ROOT):
        env = os.environ if env is None else env
        if env.get("GOLD_DIR"):
            return cls.from_gold_dir(env["GOLD_DIR"])
        built = os.path.join(root, "gold")
        if os.path.isfile(os.path.join(built, gold.SUMMARY)):
            return cls.from_gold_dir(built)
        return cls.from_csv(os.path.join(root, "data", "breweries.csv"))

    def stats(self):
        return {k: self.summary[k] for k in
                ("total", "with_coordinates", "by_country", "by_state",
                 "by_type", "generated_at") if k in self.summary}

    def find(self, country=None, state=None, brewery_type=None,
             limit=50, offset=0):
        """Breweries matching the filters (case-insensitive), paged."""
        def same(value, wanted):
            return wanted is None or (value or "").lower() == wanted.lower()
        matches = [b for b in self.breweries
                   if same(b.get("country"), country)
                   and same(b.get("state"), state)
                   and same(b.get("brewery_type"), brewery_type)]
        return len(matches), matches[offset:offset + limit]

"""Breweries web service: serves the gold layer over HTTP (stdlib only)."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_version(root=ROOT):
    """The version in ROOT/VERSION, or '0.0.0+unknown' when it is absent."""
    try:
        with open(os.path.join(root, "VERSION"), encoding="utf-8") as fh:
            return fh.read().strip() or "0.0.0+unknown"
    except OSError:
        return "0.0.0+unknown"


__version__ = read_version()

"""python3 -m app: start the breweries web service."""
import sys

from app.server import main

sys.exit(main())

"""``python -m neuro_bridge``: the ``neuro-bridge`` command line."""

from __future__ import annotations

import sys

from neuro_bridge.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""Play Connect Four in a window, against Neuro or a random local opponent.

With the sample installed (or from its ``sample_games/pygame_connect_four`` folder)::

    python -m neuro_connect_four            # against Neuro at $NEURO_SDK_WS_URL
    python -m neuro_connect_four --local    # against a random local opponent

Click a column (or press 1-7) to drop a red disc; Escape quits. After a game,
click to play again; the side that starts alternates.  ``neuro-bridge demo``
runs the same game against the built-in stand-in Neuro.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from neuro_bridge.argtypes import positive, positive_int

from .app import GAME_TITLE, run

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, play, and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m neuro_connect_four",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # its lines as written
    )
    parser.add_argument(
        "--local", action="store_true", help="play against a random local opponent, not Neuro"
    )
    parser.add_argument(
        "--url", help="Neuro's websocket URL (default: $NEURO_SDK_WS_URL or ws://localhost:8000)"
    )
    parser.add_argument("--headless", action="store_true", help="no window (SDL dummy driver)")
    parser.add_argument("--auto", action="store_true", help="let the computer play your side")
    parser.add_argument("--games", type=positive_int, help="quit after this many games")
    parser.add_argument(
        "--speed",
        type=positive,
        default=1.0,
        help="game clock speed; above 1 shortens animations and pauses (default 1)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    neuro = None
    if not args.local:
        from neuro_bridge.engines.pygame import PygameNeuro

        neuro = PygameNeuro(GAME_TITLE, args.url)
    run(
        neuro=neuro,
        headless=args.headless,
        auto_human=args.auto,
        games=args.games,
        speed=args.speed,
        log=logging.getLogger("neuro_connect_four").info,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

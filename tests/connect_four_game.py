"""The Connect Four sample, played headless to one game's end, for the replay tests.

    python tests/connect_four_game.py URL [--seed N] [--refuse N]

The computer plays the person's side with a fixed seed, so the same Neuro moves
make the same game.  ``--refuse N`` makes a changed copy of the game: its drop
handler refuses Neuro's Nth drop (``success: false``), as a bug would.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from neuro_connect_four import neuro  # type: ignore[import-not-found, unused-ignore]
from neuro_connect_four.app import GAME_TITLE, run  # type: ignore[import-not-found, unused-ignore]

from neuro_bridge.component import ActionResult
from neuro_bridge.engines.pygame import PygameNeuro


def refuse_drop(number: int) -> None:
    """Change the sample so that Neuro's *number*-th drop is refused."""
    original = neuro.NeuroOpponent._drop
    drops = [0]

    def drop(self: Any, data: dict[str, Any]) -> ActionResult:
        drops[0] += 1
        if drops[0] == number:
            return ActionResult(False, "This copy of the game refuses this move.")
        result: ActionResult = original(self, data)
        return result

    neuro.NeuroOpponent._drop = drop  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--refuse", type=int)
    args = parser.parse_args()
    if args.refuse:
        refuse_drop(args.refuse)
    session = run(
        neuro=PygameNeuro(GAME_TITLE, args.url),
        headless=True,
        auto_human=True,
        auto_skill=0.5,
        games=1,
        speed=8.0,
        seed=args.seed,
        time_limit=60.0,
    )
    return 0 if session.winners else 3


if __name__ == "__main__":
    sys.exit(main())

"""``neuro-bridge demo``: this game played against the built-in stand-in Neuro.

The stand-in (:class:`~neuro_bridge.mock.MockNeuro`) and the game's
:class:`~neuro_bridge.engines.pygame.PygameNeuro` run in one trio guest run on
the game's main thread: the stand-in is started through
:meth:`~neuro_bridge.engines.pygame.PygameNeuro.start`'s ``before_connect`` hook
and the game connects to it over a real loopback socket.

* With a display (``DISPLAY`` or ``WAYLAND_DISPLAY`` set) a window opens; you
  play red with the mouse, the stand-in plays yellow.  Close the window or press
  Escape to quit.
* Without one, or with ``--headless``, SDL's dummy video driver is used, a
  computer player takes the red side, every move is printed, and the demo ends
  with the game (or after ``--games`` games).

Either way the terminal shows where the stand-in listens and, at the end, the
result.  The exit status is 0, 1 if the stand-in found the game breaking a
protocol rule (its findings are printed), or 2 for a bad option.

This module belongs to the sample, not to neuro-bridge: neuro-bridge's command
line runs it as ``neuro-bridge demo`` when this sample is installed, and it also
runs as ``python -m neuro_connect_four.demo``.  Importing it imports neither
pygame nor the game: :func:`run` does.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from neuro_bridge.argtypes import non_negative, positive_int, writable_file

if TYPE_CHECKING:
    from collections.abc import Sequence

    import trio

    from .app import Session

__all__ = ["configure_parser", "has_display", "main", "result_line", "run"]

DESCRIPTION = "play the sample pygame game against the built-in stand-in Neuro"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to *parser*."""
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window even if there is a display: a computer player takes your side,"
        " moves are printed, the demo ends with the game",
    )
    parser.add_argument(
        "--games",
        type=positive_int,
        default=None,
        help="games to play, 1 or more (default: 1 headless, until closed with a window)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for all random choices")
    parser.add_argument(
        "--force-delay",
        type=non_negative,
        default=None,
        metavar="SECONDS",
        help="seconds the stand-in Neuro thinks before each move (default: 0.6, headless 0.05)",
    )
    parser.add_argument(
        "--taunts",
        type=non_negative,
        default=0.3,
        metavar="RATE",
        help="unforced taunts per second from the stand-in (default: 0.3; 0 for none)",
    )
    parser.add_argument(
        "--screenshot",
        type=writable_file,
        default=None,
        metavar="FILE.png",
        help="save the last frame to this PNG file",
    )


def has_display() -> bool:
    """Return whether a graphical display seems available (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def result_line(session: Session) -> str:
    """Return one line saying how the games played in *session* ended."""
    from .board import Player

    winners = session.winners
    if not winners:
        return "No game was finished."
    human = winners.count(Player.HUMAN)
    neuro = winners.count(Player.NEURO)
    draws = winners.count(None)
    games = "1 game" if len(winners) == 1 else f"{len(winners)} games"
    return f"Result after {games}: X won {human}, Neuro (O) won {neuro}, {draws} drawn."


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status (0 ok, 1 protocol findings)."""
    headless = bool(args.headless) or not has_display()
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

    from neuro_bridge.engines.pygame import PygameNeuro
    from neuro_bridge.mock import MockConfig, MockNeuro

    from .app import GAME_TITLE
    from .app import run as run_game

    force_delay = args.force_delay
    if force_delay is None:
        force_delay = 0.05 if headless else 0.6
    mock = MockNeuro(
        MockConfig(
            host="127.0.0.1",
            port=0,
            force_delay=force_delay,
            unforced_rate=args.taunts,
            seed=args.seed,
        )
    )

    async def start_mock(nursery: trio.Nursery) -> str:
        await nursery.start(mock.serve)
        print(f"The stand-in Neuro listens on {mock.url}.", flush=True)
        return mock.url

    if args.headless:
        print("Headless (--headless): no window; a computer player plays X.")
    elif headless:
        print(
            "No window: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set);"
            " a computer player plays X."
        )
    else:
        print("A window opened: you play X (red) with the mouse or keys 1-7.")
        print("Close the window or press Escape to quit.")
    print("Connect Four: X against the stand-in Neuro (O).", flush=True)
    games = args.games if args.games is not None else (1 if headless else None)
    session = run_game(
        neuro=PygameNeuro(GAME_TITLE),
        before_connect=start_mock,
        headless=headless,
        auto_human=headless,
        games=games,
        speed=4.0 if headless else 1.0,
        seed=args.seed,
        log=print if headless else None,
        screenshot=None if args.screenshot is None else str(args.screenshot),
    )
    if headless:
        print(session.game.board.to_text())
    print(result_line(session))
    if mock.findings:
        print(mock.summary())
        return 1
    print("The stand-in Neuro found no protocol violations.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m neuro_connect_four.demo`` with *argv*; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m neuro_connect_four.demo", description=DESCRIPTION
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

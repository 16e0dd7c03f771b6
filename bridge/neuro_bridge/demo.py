"""``neuro-bridge demo``: the sample pygame game played by the built-in stand-in Neuro.

The stand-in (:class:`~neuro_bridge.mock.MockNeuro`) and the game's
:class:`~neuro_bridge.engines.pygame.PygameNeuro` run in one trio guest run on
the game's main thread: the mock is started through
:meth:`~neuro_bridge.engines.pygame.PygameNeuro.start`'s ``before_connect`` hook
and the game connects to it over a real loopback socket.

* With a display (``DISPLAY`` or ``WAYLAND_DISPLAY`` set) a window opens; you
  play red with the mouse, the stand-in plays yellow.  Close it to quit.
* Without one, or with ``--headless``, SDL's dummy video driver is used, a
  simple local player takes your side, every move is printed, and the demo
  exits when the game ends.

The exit status is 0, or 1 if the stand-in found the game breaking a protocol
rule (its findings are printed).

**Where the game comes from.**  The sample game is not part of the installed
package: it lives in the repository's ``sample_games/pygame_connect_four`` and
is imported from there, the folder found relative to this package's own
location in a clone (``bridge/neuro_bridge`` -> ``../../sample_games``), which
is what ``make demo`` (an editable install) gives.  ``--sample-dir`` or
``$NEURO_BRIDGE_SAMPLE_DIR`` point elsewhere; if the folder is missing, the
demo says so and exits with status 2.  Nothing is copied or packaged twice.

Importing this module imports neither pygame nor the sample: :func:`run` does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import argparse

    import trio

__all__ = ["SAMPLE_DIR_VARIABLE", "configure_parser", "find_sample_dir", "has_display", "run"]

#: Environment variable naming the ``pygame_connect_four`` folder.
SAMPLE_DIR_VARIABLE: Final = "NEURO_BRIDGE_SAMPLE_DIR"
#: The sample's folder, relative to the repository root.
_SAMPLE_PATH: Final = Path("sample_games") / "pygame_connect_four"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to *parser*."""
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window even if there is a display: a local player takes your side,"
        " moves are printed, the demo ends with the game",
    )
    parser.add_argument(
        "--games", type=int, default=None, help="games to play (headless default: 1)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for all random choices")
    parser.add_argument(
        "--force-delay",
        type=float,
        default=None,
        help="seconds the stand-in Neuro thinks before each move (default: 0.6, headless 0.05)",
    )
    parser.add_argument(
        "--taunts",
        type=float,
        default=0.3,
        help="unforced taunts per second from the stand-in (default: 0.3; 0 for none)",
    )
    parser.add_argument(
        "--sample-dir",
        type=Path,
        default=None,
        help=f"the pygame_connect_four folder (default: ${SAMPLE_DIR_VARIABLE} or the clone's)",
    )
    parser.add_argument("--screenshot", default=None, help="save the last frame to this PNG file")


def has_display() -> bool:
    """Return whether a graphical display seems available (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def find_sample_dir(explicit: Path | None = None) -> Path:
    """Return the ``pygame_connect_four`` folder (see the module docstring).

    Raises:
        FileNotFoundError: With what was tried, when the folder is missing.

    """
    if explicit is not None:
        candidates = [explicit]
    elif os.environ.get(SAMPLE_DIR_VARIABLE):
        candidates = [Path(os.environ[SAMPLE_DIR_VARIABLE])]
    else:
        # bridge/neuro_bridge/demo.py -> the repository root is two folders up.
        candidates = [Path(__file__).resolve().parents[2] / _SAMPLE_PATH]
    for candidate in candidates:
        if (candidate / "neuro_connect_four" / "__init__.py").is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"the sample game is not at {tried}. The demo runs it from a clone of the"
        " neuro-bridge repository (`make demo`, or `pip install -e .` in the clone);"
        f" otherwise pass --sample-dir or set ${SAMPLE_DIR_VARIABLE} to the"
        " sample_games/pygame_connect_four folder."
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status (0 ok, 1 findings, 2 no sample)."""
    try:
        sample_dir = find_sample_dir(args.sample_dir)
    except FileNotFoundError as exc:
        print(f"neuro-bridge demo: {exc}", file=sys.stderr)
        return 2
    headless = bool(args.headless) or not has_display()
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if str(sample_dir) not in sys.path:
        sys.path.insert(0, str(sample_dir))

    from neuro_connect_four.app import GAME_TITLE
    from neuro_connect_four.app import run as run_game

    from neuro_bridge.engines.pygame import PygameNeuro
    from neuro_bridge.mock import MockConfig, MockNeuro

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
        return mock.url

    games = args.games if args.games is not None else (1 if headless else None)
    if headless:
        print("Connect Four: you (X, a local player) against the stand-in Neuro (O).")
    session = run_game(
        neuro=PygameNeuro(GAME_TITLE),
        before_connect=start_mock,
        headless=headless,
        auto_human=headless,
        games=games,
        speed=4.0 if headless else 1.0,
        seed=args.seed,
        log=print if headless else None,
        screenshot=args.screenshot,
    )
    if headless:
        print(session.game.board.to_text())
    findings = mock.findings
    if findings:
        print(mock.summary())
        return 1
    if headless:
        print("The stand-in Neuro found no protocol violations.")
    return 0

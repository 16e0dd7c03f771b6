"""Play The Tea Party: Ren'Py, the neuro-bridge plugin, and a Neuro to play it.

One command, from the repository's root (with neuro-bridge installed, e.g.
``make venv``)::

    .venv/bin/python sample_games/renpy_tea_party/play.py

It copies the game into a scratch folder (Ren'Py writes into its game folder),
drops the plugin in (``neuro-bridge renpy install``), starts the stand-in Neuro on
a free local port with its transcript on the terminal, and runs Ren'Py in a
window.  Neuro picks the drinks; you may click first.  Options:

``--url ws://host:port``
    play with this Neuro (the real one, or ``neuro-bridge mock`` started by
    you) instead of starting the stand-in.
``--player``
    no Neuro at all: you play.
``--renpy PATH``
    the Ren'Py launcher (default: ``$RENPY``, ``renpy`` on ``PATH``, or
    ``/usr/games/renpy``).
``--headless``
    no window, no sound (SDL's dummy drivers, Ren'Py's software renderer).
``--reading-delay SECONDS``
    how long each line stays up while Neuro plays (``neuro.advance_delay``).
``--wheel-dir DIR``
    build the plugin from these wheels instead of downloading them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import trio

from neuro_bridge.installers.renpy_bundle import install
from neuro_bridge.mock import MockConfig, Transcript, play_game

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Debian's Ren'Py 8.0.3 runs on Python 3.11, which needs this work-around.
PY311_FIX = ROOT / "tools" / "engines" / "renpy80_py311_fix.rpy"
#: Debian's Ren'Py: the launcher, and the file its version is read from.
DEBIAN_RENPY = Path("/usr/share/games/renpy")


def needs_py311_fix(launcher: str) -> bool:
    """Whether *launcher* is Debian's Ren'Py 8.0 (which runs on Python 3.11)."""
    if Path(launcher).resolve() != DEBIAN_RENPY / "renpy.py":
        return False
    version = (DEBIAN_RENPY / "renpy" / "__init__.py").read_text(errors="replace")
    return "version_tuple = (8, 0, " in version


def find_renpy(given: str | None) -> str:
    """Return the Ren'Py launcher to run."""
    for candidate in (given, os.environ.get("RENPY"), shutil.which("renpy"), "/usr/games/renpy"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("Ren'Py not found: pass --renpy PATH (Debian: apt-get install renpy)")


def prepare(scratch: Path, launcher: str, args: argparse.Namespace) -> Path:
    """Copy the game into *scratch* and install the plugin; return the copy."""
    game = scratch / "renpy_tea_party"
    shutil.copytree(HERE, game, ignore=shutil.ignore_patterns("play.py", "README.md", "*.rpyc"))
    if needs_py311_fix(launcher):
        shutil.copyfile(PY311_FIX, game / "game" / "00py311_fix.rpy")
    settings = []
    if args.player:
        settings.append("define neuro.enabled = False")
    if args.reading_delay is not None:
        settings.append(f"define neuro.advance_delay = {args.reading_delay!r}")
        settings.append("define neuro.advance_per_character = 0.0")
    if settings:
        (game / "game" / "zz_play_settings.rpy").write_text("\n".join(settings) + "\n")
    install(game, wheel_dir=args.wheel_dir, windows=False)
    return game


async def run(launcher: str, game: Path, url: str | None, player: bool, headless: bool) -> int:
    """Run Ren'Py on *game*, with the stand-in Neuro unless *url* or *player*; return its status."""
    env = dict(os.environ)
    if headless:
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_SDL2_AVOID_GL="1")
        env.update(RENPY_RENDERER="sw", RENPY_PERFORMANCE_TEST="0")
    command = [launcher, str(game)]
    if player or url is not None:
        if url is not None:
            env["NEURO_SDK_WS_URL"] = url
        done = await trio.run_process(command, env=env, check=False)
        return done.returncode
    played = await play_game(
        command,
        config=MockConfig(host="127.0.0.1", port=0, force_delay=1.0),
        env=env,
        transcript=Transcript(sys.stdout),
    )
    print(played.mock.summary())
    return played.returncode


def main() -> None:
    """Parse the command line, prepare a copy of the game and play it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="Neuro's websocket URL (default: start the stand-in)")
    parser.add_argument("--player", action="store_true", help="no Neuro: you play")
    parser.add_argument("--renpy", help="the Ren'Py launcher")
    parser.add_argument("--headless", action="store_true", help="no window, no sound")
    parser.add_argument("--reading-delay", type=float, help="seconds each line stays up")
    parser.add_argument("--wheel-dir", type=Path, help="build the plugin from these wheels")
    args = parser.parse_args()
    launcher = find_renpy(args.renpy)
    with tempfile.TemporaryDirectory(prefix="tea-party-") as scratch:
        game = prepare(Path(scratch), launcher, args)
        status = trio.run(run, launcher, game, args.url, args.player, args.headless)
    sys.exit(status)


if __name__ == "__main__":
    main()

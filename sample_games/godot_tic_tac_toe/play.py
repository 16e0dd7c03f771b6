"""Play Tic Tac Toe: Godot 4, the neuro-bridge addon and its sidecar, and a Neuro to play it.

One command, from the repository's root (with neuro-bridge installed, e.g.
``make venv``, and Godot 4.3 or later)::

    .venv/bin/python sample_games/godot_tic_tac_toe/play.py

It copies the game into a scratch folder (Godot writes ``.godot/`` into a project),
installs the addon with its sidecar turned on (``neuro-bridge godot install
--sidecar``: the game starts the validating proxy with this Python), starts the
stand-in Neuro on a free local port with its transcript on the terminal, and runs
Godot in a window.  You play X by clicking; Neuro plays O.  Options:

``--url ws://host:port``
    play with this Neuro (the real one, or ``neuro-bridge mock`` started by you)
    instead of starting the stand-in.
``--no-sidecar``
    the game connects to Neuro directly.
``--godot PATH``
    the Godot 4 binary (default: ``$GODOT``, else ``godot`` on ``PATH``, else the
    Godot that ``make engines`` provisioned for neuro-bridge's tests).
``--headless``
    no window: a small bot plays X (``--autoplay``), and ``--games N`` (default 3)
    games are played.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import trio

from neuro_bridge.argtypes import positive_int
from neuro_bridge.installers.godot_addon import install
from neuro_bridge.mock import MockConfig, Transcript, play_game

HERE = Path(__file__).resolve().parent


def provisioned_godot() -> str:
    """Return the launcher of the Godot ``make engines`` provisioned, or ``""``.

    It lives in neuro-bridge's engine cache: ``$NEURO_BRIDGE_ENGINES``, else
    ``$XDG_CACHE_HOME/neuro-bridge/engines``, else ``~/.cache/neuro-bridge/engines``
    (the rules of ``tools/engines/provision.py``).
    """
    root = os.environ.get("NEURO_BRIDGE_ENGINES")
    if not root:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(cache) / "neuro-bridge" / "engines")
    launcher = Path(root) / "godot" / "godot"
    return str(launcher) if launcher.is_file() and os.access(launcher, os.X_OK) else ""


def find_godot(given: str | None) -> str:
    """Return the Godot binary to run."""
    candidates = (given, os.environ.get("GODOT"), shutil.which("godot"), provisioned_godot())
    for candidate in candidates:
        if candidate and shutil.which(candidate):
            return candidate
    raise SystemExit(
        "Godot 4 not found: pass --godot PATH, set $GODOT, put godot on PATH or run"
        " `make engines` (https://godotengine.org)"
    )


def prepare(scratch: Path, godot: str, sidecar: bool) -> Path:
    """Copy the game into *scratch*, install the addon and import it; return the copy."""
    game = scratch / "godot_tic_tac_toe"
    shutil.copytree(
        HERE, game, ignore=shutil.ignore_patterns("play.py", "README.md", "addons", ".godot")
    )
    install(game, sidecar_python=sys.executable if sidecar else None)
    # A first run registers the addon's global class names (NeuroBridgeAction, ...).
    subprocess.run(  # noqa: S603 -- the developer's Godot on our own scratch copy
        [godot, "--headless", "--path", str(game), "--import"],
        capture_output=True,
        check=True,
        timeout=600,
    )
    return game


async def run(godot: str, game: Path, url: str | None, headless: bool, games: int) -> int:
    """Run Godot on *game*, with the stand-in Neuro unless *url*; return its status."""
    command = [godot, "--path", str(game)]
    if headless:
        command += ["--headless", "--", "--autoplay", "--games", str(games)]
    env = dict(os.environ)
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
    parser.add_argument("--no-sidecar", action="store_true", help="connect to Neuro directly")
    parser.add_argument("--godot", help="the Godot 4 binary")
    parser.add_argument("--headless", action="store_true", help="no window: a bot plays X")
    parser.add_argument(
        "--games", type=positive_int, default=3, help="games to play with --headless"
    )
    args = parser.parse_args()
    godot = find_godot(args.godot)
    with tempfile.TemporaryDirectory(prefix="tic-tac-toe-") as scratch:
        game = prepare(Path(scratch), godot, not args.no_sidecar)
        status = trio.run(run, godot, game, args.url, args.headless, args.games)
    sys.exit(status)


if __name__ == "__main__":
    main()

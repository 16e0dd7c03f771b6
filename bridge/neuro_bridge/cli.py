"""The ``neuro-bridge`` command line (also ``python -m neuro_bridge``).

Each subcommand lives in the module that implements it; this file only holds the
table of subcommands, wires the chosen one up and configures logging.  A
subcommand module provides ``configure_parser(parser: argparse.ArgumentParser) ->
None`` and ``run(args: argparse.Namespace) -> int``.

Subcommands load lazily: ``neuro-bridge --help`` imports no subcommand module,
and ``neuro-bridge NAME ...`` imports only NAME's module (to add its options,
show its help and run it).  So a subcommand may import what it needs at module
level without slowing down, or breaking, the others; adding one is one row in
:data:`SUBCOMMANDS`.  A subcommand may live in another distribution (``demo`` is
the sample game's): when its module is not installed, the command says so in one
line (:data:`INSTALL_HINTS`) and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import TYPE_CHECKING

from neuro_bridge._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["INSTALL_HINTS", "SUBCOMMANDS", "build_parser", "chosen_command", "main"]

#: name -> (module implementing it, one-line help).  The module is imported only
#: when its subcommand runs or its help is asked for.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "neuro_connect_four.demo",
        "play the sample pygame game against the built-in stand-in Neuro",
    ),
    "godot": (
        "neuro_bridge.installers.godot_addon",
        "copy the Godot 4 addon into a project and enable it (godot install PROJECT_DIR)",
    ),
    "mock": (
        "neuro_bridge.mock.cli",
        "run the stand-in Neuro server: plays games, attacks them, checks conformance",
    ),
    "proxy": (
        "neuro_bridge.proxy",
        "put any Neuro game behind a validating proxy (also the Godot addon's sidecar)",
    ),
    "renpy": (
        "neuro_bridge.installers.renpy_bundle",
        "build the Ren'Py drop-in folder, install it into a game, or remove it",
    ),
}


#: name -> how to get a subcommand whose module lives in another distribution,
#: said in one line when that distribution is not installed.
INSTALL_HINTS: dict[str, str] = {
    "demo": "the demo is the Connect Four sample game (neuro-connect-four), which is not"
    " installed; in a clone of neuro-bridge, `make demo` installs and runs it",
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """Return the subcommand named in *argv*, or None when there is none.

    The top-level options take no value, so the subcommand is the first argument
    that is not an option (or the one right after ``--``).  The name is returned
    even if it is not in :data:`SUBCOMMANDS` (the parser then reports it).
    """
    for index, arg in enumerate(argv):
        if arg == "--":
            return argv[index + 1] if index + 1 < len(argv) else None
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the parser, with the subcommand *command* (if any) fully configured.

    Every subcommand is listed with its help; only *command*'s module is imported
    to add its options.  Parse only arguments naming *command* with the result.
    """
    parser = argparse.ArgumentParser(
        prog="neuro-bridge",
        description="Let games be played by Neuro-sama through her websocket game API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module_name).configure_parser(sub)
    return parser


def _is_missing(error: ModuleNotFoundError, module_name: str) -> bool:
    """Return whether *error* says *module_name* (or a package holding it) is absent."""
    missing = error.name or ""
    return bool(missing) and (module_name == missing or module_name.startswith(f"{missing}."))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(arguments)
    try:
        parser = build_parser(command)
    except ModuleNotFoundError as exc:
        if command is None or not _is_missing(exc, SUBCOMMANDS[command][0]):
            raise
        hint = INSTALL_HINTS.get(command, f"it needs {exc.name}, which is not installed")
        print(f"neuro-bridge {command}: {hint}", file=sys.stderr)
        return 2
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 2
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    status: int = module.run(args)
    return status

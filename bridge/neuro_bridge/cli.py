"""The ``neuro-bridge`` command line.

Each subcommand lives in the module that implements it; this file only wires
them up and configures logging.  A subcommand module provides
``configure_parser(parser: argparse.ArgumentParser) -> None`` and
``run(args: argparse.Namespace) -> int``.  Every subcommand module is imported to
build the parser, so none may import an engine at module level: ``neuro-bridge
--help`` needs no engine (the chosen subcommand's ``run`` imports what it uses).
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

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: name -> (module implementing it, one-line help).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "neuro_bridge.demo",
        "play the sample pygame game against the built-in stand-in Neuro",
    ),
    "mock": (
        "neuro_bridge.mock.cli",
        "run the stand-in Neuro server: plays games, attacks them, checks conformance",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every subcommand."""
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
        module = importlib.import_module(module_name)
        module.configure_parser(sub)
        sub.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    module = importlib.import_module(args._module)
    status: int = module.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())

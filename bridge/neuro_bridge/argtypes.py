"""Checked types for command-line options, shared by every ``neuro-bridge`` command.

Each function here is an :mod:`argparse` ``type=``: it turns the option's text into
a value or raises :class:`argparse.ArgumentTypeError` with a one-line reason, so a
bad value is reported (``error: argument --port: ...``, exit status 2) before
anything runs -- never as a traceback after a whole session.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import TypeVar

__all__ = [
    "non_negative",
    "non_negative_int",
    "port",
    "positive",
    "positive_int",
    "probability",
    "writable_file",
]


_N = TypeVar("_N", int, float)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _require(value: _N, holds: bool, rule: str, text: str) -> _N:
    """Return *value* if *holds*, else raise the one-line error "must be *rule*"."""
    if not holds:
        raise argparse.ArgumentTypeError(f"must be {rule}, not {text}")
    return value


def non_negative(text: str) -> float:
    """Return *text* as a number >= 0."""
    value = _number(text)
    return _require(value, value >= 0, ">= 0", text)


def positive(text: str) -> float:
    """Return *text* as a number > 0."""
    value = _number(text)
    return _require(value, value > 0, "> 0", text)


def probability(text: str) -> float:
    """Return *text* as a number between 0 and 1."""
    value = _number(text)
    return _require(value, 0 <= value <= 1, "between 0 and 1", text)


def non_negative_int(text: str) -> int:
    """Return *text* as a whole number >= 0."""
    value = _integer(text)
    return _require(value, value >= 0, "0 or more", text)


def positive_int(text: str) -> int:
    """Return *text* as a whole number >= 1."""
    value = _integer(text)
    return _require(value, value >= 1, "1 or more", text)


def port(text: str) -> int:
    """Return *text* as a TCP port: 0 (any free port) to 65535."""
    value = _integer(text)
    return _require(value, 0 <= value <= 65535, "a port from 0 to 65535", text)


def writable_file(text: str) -> Path:
    """Return *text* as the path of a file that can be created or replaced.

    Checked now so that a session is not played only to fail when its output is
    written: the folder must exist and be writable, and the path must not be a folder.
    """
    path = Path(text).expanduser()
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text}: permission denied")
    return path

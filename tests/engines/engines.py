"""The real engines for engine tests: where they are and how to run them headless.

``make engines`` (or ``python3 tools/engines/provision.py``) provisions them; this
module only reads what provisioning recorded.  :func:`require` is what a test
calls: it returns the engine, or fails the test in CI (environment variable
``CI`` set) and skips it elsewhere, with the reason.  The ``renpy80``,
``renpy83``, ``renpy`` (both versions) and ``godot`` fixtures in
``tests/engines/conftest.py`` call it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tools.engines import provision

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "HEADLESS",
    "PY311_FIX",
    "RENPY_VERSIONS",
    "Engine",
    "EngineUnavailableError",
    "locate",
    "renpy_game_copy",
    "require",
]

#: The Ren'Py engines the tests run on.
RENPY_VERSIONS = ("renpy80", "renpy83")

_RENPY_HEADLESS = {
    "SDL_VIDEODRIVER": "dummy",
    "SDL_AUDIODRIVER": "dummy",
    "PYGAME_SDL2_AVOID_GL": "1",
    "RENPY_RENDERER": "sw",
}

#: Environment that makes each engine run without a display or sound card.
HEADLESS: Mapping[str, Mapping[str, str]] = {
    "renpy80": _RENPY_HEADLESS,
    # 8.3's software renderer also wants its start-up performance test off.
    "renpy83": {**_RENPY_HEADLESS, "RENPY_PERFORMANCE_TEST": "0"},
    "godot": {},
}

#: Arguments every headless run of an engine starts with.
_HEADLESS_ARGS: Mapping[str, tuple[str, ...]] = {"godot": ("--headless",)}

#: The Python 3.11 fix that test copies of games get on Ren'Py 8.0.3.
PY311_FIX = Path(provision.__file__).with_name("renpy80_py311_fix.rpy")

#: Where test copies of games put :data:`PY311_FIX` (early in the load order).
_PY311_FIX_NAME = "00neuro_bridge_test_py311_fix.rpy"


class EngineUnavailableError(Exception):
    """The engine is not provisioned on this machine; the message says how to get it."""


@dataclass(frozen=True)
class Engine:
    """A provisioned engine and how to start it headless.

    Attributes:
        name: ``renpy80``, ``renpy83`` or ``godot``.
        version: the Debian package version it came from.
        argv: the command that starts the engine (arguments follow).
        env: environment the engine needs to start at all (its private root).
        needs_py311_fix: whether games run on it need :data:`PY311_FIX`.
        base: Ren'Py's own folder (its ``renpy/``, ``common/`` and ``launcher/``);
            empty for Godot.
    """

    name: str
    version: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    needs_py311_fix: bool = False
    base: str = ""

    def command(self, *args: str) -> list[str]:
        """Return the command line running the engine headless with ``args``."""
        return [*self.argv, *_HEADLESS_ARGS.get(self.name, ()), *args]

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return ``os.environ`` plus what the engine needs to run headless, plus ``extra``."""
        return {**os.environ, **self.env, **HEADLESS[self.name], **(extra or {})}

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float = 120,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the engine headless to completion; return its status and output.

        Raises:
            subprocess.TimeoutExpired: the engine ran longer than ``timeout`` seconds
                (it is killed first).
        """
        return subprocess.run(
            self.command(*args),
            env=self.environ(extra_env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def locate(name: str) -> Engine:
    """Return the provisioned engine ``name``.

    Raises:
        EngineUnavailableError: it is not provisioned (or its files are gone).
    """
    if name not in provision.ENGINE_NAMES:
        raise ValueError(f"unknown engine {name!r}; one of {provision.ENGINE_NAMES}")
    info = provision.read_stamp(provision.cache_root() / name)
    if info is None:
        raise EngineUnavailableError(
            f"{name} is not provisioned in {provision.cache_root()}: "
            f"run `make engines` or `python3 tools/engines/provision.py {name}`"
        )
    return Engine(
        name=name,
        version=info["version"],
        argv=tuple(info["argv"]),
        env=dict(info["env"]),
        needs_py311_fix=info.get("needs_py311_fix", False),
        base=info.get("base", ""),
    )


def require(name: str) -> Engine:
    """Return engine ``name``; fail the calling test in CI when it is missing, else skip it."""
    try:
        return locate(name)
    except EngineUnavailableError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the real engine: {exc}")
        pytest.skip(str(exc))


def renpy_game_copy(engine: Engine, source: Path, destination: Path) -> Path:
    """Copy the Ren'Py project ``source`` to ``destination`` for ``engine`` to run.

    Ren'Py writes ``game/cache``, ``saves`` and ``log.txt`` into the game, so tests
    always run a copy.  Compiled scripts and saves of the source are left behind;
    on 8.0.3 the copy gets :data:`PY311_FIX`.

    Returns:
        ``destination`` (the folder to pass to Ren'Py).
    """
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns("*.rpyc", "*.rpymc", "cache", "saves", "log.txt"),
    )
    if engine.needs_py311_fix:
        shutil.copyfile(PY311_FIX, destination / "game" / _PY311_FIX_NAME)
    return destination

"""Engine tests run headless: SDL's dummy drivers, set before pygame is imported."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.engines.engines import RENPY_VERSIONS, Engine, require

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pygame


# --- the real engines (tests/engines/engines.py): fail in CI when missing, else skip ---


@pytest.fixture
def renpy80() -> Engine:
    """Ren'Py 8.0.3 (Debian bookworm; games need the Python 3.11 fix, see engines.py)."""
    return require("renpy80")


@pytest.fixture
def renpy83() -> Engine:
    """Ren'Py 8.3.4 (Debian trixie, unpacked privately)."""
    return require("renpy83")


@pytest.fixture(params=RENPY_VERSIONS)
def renpy(request: pytest.FixtureRequest) -> Engine:
    """Each Ren'Py the tests run on, in turn."""
    return require(request.param)


@pytest.fixture
def godot() -> Engine:
    """Godot 4 (Debian sid or forky, unpacked privately)."""
    return require("godot")


# --- pygame-ce ---


@pytest.fixture
def screen() -> Iterator[pygame.Surface]:
    """A 160x120 pygame display on the dummy driver, closed after the test."""
    import pygame

    pygame.display.init()
    surface = pygame.display.set_mode((160, 120))
    pygame.event.get()
    try:
        yield surface
    finally:
        pygame.display.quit()

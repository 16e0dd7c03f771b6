"""The Ren'Py version differences (``neuro_bridge.engines.renpy_compat``), one variant each.

The module never imports Ren'Py: these stand-ins have the shape each Ren'Py
version's objects have (checked by reading its source, see the module docstring).
"""

from __future__ import annotations

import types
from typing import Any

import pytest

from neuro_bridge.engines import renpy_compat


class OldButton:
    """Ren'Py 8.0-8.4: ``_tts_all(self)``."""

    def _tts_all(self) -> str:
        return "Start"


class NewButton:
    """Ren'Py 8.5: ``_tts_all(self, raw: bool)``; raw=True would skip substitution."""

    def _tts_all(self, raw: bool) -> str:
        return "[who]" if raw else "Start"


class Image:
    """A displayable without speech text (returns None)."""

    def _tts_all(self) -> None:
        return None


def test_tts_without_raw_before_8_5() -> None:
    assert renpy_compat.button_text(OldButton()) == "Start"


def test_tts_with_raw_false_from_8_5() -> None:
    assert renpy_compat.button_text(NewButton()) == "Start"
    assert renpy_compat.TTS_TAKES_RAW[NewButton] is True
    assert renpy_compat.TTS_TAKES_RAW[OldButton] is False


def test_tts_none_and_missing() -> None:
    assert renpy_compat.button_text(Image()) == ""
    assert renpy_compat.button_text(object()) == ""


def test_tts_builtin_without_signature() -> None:
    button = types.SimpleNamespace(_tts_all=dict)  # no signature: called without arguments
    assert renpy_compat.button_text(button) == "{}"


def test_pygame_module_sdl2_and_renpy_pygame() -> None:
    for name in ("pygame_sdl2", "renpy.pygame"):
        module = types.SimpleNamespace(__name__=name, event=types.SimpleNamespace())
        core = types.SimpleNamespace(pygame=module, PERIODIC=32768)
        assert renpy_compat.pygame_module(core) is module
    with pytest.raises(RuntimeError):
        renpy_compat.pygame_module(types.SimpleNamespace())


class JumpError(Exception):
    pass


class QuitError(Exception):
    pass


class EndInteractionError(Exception):
    pass


def test_control_exceptions_from_the_tuple() -> None:
    game = types.SimpleNamespace(CONTROL_EXCEPTIONS=(JumpError, QuitError), JumpException=JumpError)
    assert renpy_compat.control_exceptions(game, EndInteractionError) == (
        JumpError,
        QuitError,
        EndInteractionError,
    )


def test_control_exceptions_without_the_tuple() -> None:
    game = types.SimpleNamespace(JumpException=JumpError, QuitException=QuitError)
    assert set(renpy_compat.control_exceptions(game)) == {JumpError, QuitError}


class Choice:
    """Ren'Py 8.3+: ``renpy.Choice(value, *args, **kwargs)``."""

    def __init__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        self.value = value
        self.args = args
        self.kwargs = kwargs


def test_choice_unwrapped_on_8_3() -> None:
    assert renpy_compat.unwrap_choice(Choice("east", icon="arrow"), Choice) == "east"
    assert renpy_compat.unwrap_choice("west", Choice) == "west"


def test_choice_before_8_3() -> None:
    assert renpy_compat.unwrap_choice("east", None) == "east"

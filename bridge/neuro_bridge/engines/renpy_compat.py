"""What differs between the Ren'Py versions the plugin runs on (8.0 to 8.5).

Every Ren'Py internal :mod:`neuro_bridge.engines.renpy` touches whose shape
changed between versions is reached through this module, so the differences sit
in one place, each with a unit test per variant.  It never imports Ren'Py
itself: callers pass the objects in, and the tests pass stand-ins.

Checked by reading the ``renpy/renpy`` repository's tags (8.4.1, 8.5.0-8.5.3)
and run for real on 8.0.3 and 8.3.4:

* ``Displayable._tts_all()`` takes a required ``raw`` argument since 8.5.0
  (``_tts_all(self, raw: bool)``); 8.0-8.4 take none.
* ``renpy.display.core.pygame`` is ``pygame_sdl2`` up to 8.4 and
  ``renpy.pygame`` from 8.5; both have ``event.post``/``event.Event`` and the
  module keeps the name ``pygame`` in ``renpy.display.core``.  ``PERIODIC``
  stays a module constant there.
* ``renpy.game.CONTROL_EXCEPTIONS`` (jumps, calls, restarts, quit) exists in
  every 8.x; ``EndInteraction`` lives in ``renpy.display.core``.
* Menu items: 8.0-8.2 pass ``(label, value)`` with a ``ChoiceReturn`` value;
  8.3+ may carry a ``renpy.Choice`` (``value`` attribute, plus ``args`` and
  ``kwargs``) that must be unwrapped before the script sees it.
"""

from __future__ import annotations

import inspect
from typing import Any, Final

__all__ = ["TTS_TAKES_RAW", "button_text", "control_exceptions", "pygame_module", "unwrap_choice"]

#: Cache: class -> whether its ``_tts_all`` needs the ``raw`` argument.
TTS_TAKES_RAW: Final[dict[type, bool]] = {}


def _takes_raw(method: Any) -> bool:
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):  # a builtin without a signature: the old form
        return False
    return "raw" in parameters


def button_text(displayable: Any) -> str:
    """Return the text a screen reader would say for *displayable* (``_tts_all``).

    Ren'Py 8.5 calls it ``_tts_all(raw)``; 8.0-8.4 ``_tts_all()``.  The text is
    the substituted one (``raw=False``).  Returns ``""`` when there is none.
    """
    method = getattr(displayable, "_tts_all", None)
    if method is None:
        return ""
    kind = type(displayable)
    takes_raw = TTS_TAKES_RAW.get(kind)
    if takes_raw is None:
        takes_raw = TTS_TAKES_RAW[kind] = _takes_raw(method)
    text = method(False) if takes_raw else method()
    return "" if text is None else str(text)


def pygame_module(core: Any) -> Any:
    """Return the pygame module Ren'Py's display core posts events through.

    *core* is ``renpy.display.core``: ``pygame_sdl2`` (8.0-8.4) or
    ``renpy.pygame`` (8.5+), both under the name ``pygame``.
    """
    module = getattr(core, "pygame", None)
    if module is None or not hasattr(module, "event"):
        raise RuntimeError("Ren'Py's display core has no pygame module")
    return module


def control_exceptions(game: Any, *extra: type[BaseException]) -> tuple[type[BaseException], ...]:
    """Return the exceptions Ren'Py uses for control flow, which must pass through.

    *game* is ``renpy.game``; *extra* adds more (``EndInteraction``).
    """
    found = getattr(game, "CONTROL_EXCEPTIONS", ())
    names = ("JumpException", "CallException", "QuitException", "RestartContext")
    fallback = tuple(getattr(game, name) for name in names if hasattr(game, name))
    return tuple(dict.fromkeys((*tuple(found), *fallback, *extra)))


def unwrap_choice(value: Any, choice_type: type | None) -> Any:
    """Return the value a menu choice gives the script.

    Ren'Py 8.3 added ``renpy.Choice(value, *args, **kwargs)`` for menu items
    built in Python; the script sees its ``value``.  *choice_type* is
    ``renpy.Choice`` (None where it does not exist).
    """
    if choice_type is not None and isinstance(value, choice_type):
        return getattr(value, "value", value)
    return value

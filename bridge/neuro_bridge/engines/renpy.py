"""Neuro in a Ren'Py game: the guest-mode host, automatic play and the script API.

This module runs inside Ren'Py (8.0 and later).  The plugin's ``.rpy`` file
(``plugins/renpy/neuro.rpy``) keeps the settings in the ``neuro`` store
namespace and calls :func:`install` at init time; everything alive -- the trio
guest run, the websocket, the actions -- lives here, never in the store, so saves
and rollback never see it.

**One thread.**  Trio runs in guest mode on Ren'Py's main thread
(:class:`~neuro_bridge.guest.GuestRunner`).  :class:`RenpyHost` wakes Ren'Py's
interaction loop by posting its ``PERIODIC`` event; the plugin drains trio's
callbacks in ``config.periodic_callbacks`` and ``config.start_interact_callbacks``
(periodic callbacks never run while skipping).  Handlers therefore run between
frames, on the main thread, and may touch the store.

**Automatic play** (each part can be turned off with ``define neuro.<setting>``):

* *Menus*: every menu registers a choice action whose schema enumerates the
  captions on screen and forces it with the recent dialogue as state.  Neuro's
  pick ends the menu's interaction as a click on that caption would.  A person
  clicking first wins: the action is unregistered, and an ``action`` arriving
  later gets a failed result.  Leaving the menu any other way (rollback, loading
  a save, a jump from a screen) unregisters it too.
* *Dialogue*: each line that reaches the history is sent as context.
* *Text input*: :func:`renpy.input` registers and forces an action with a string
  parameter no longer than the input allows.
* *Advancing*: ``"auto"`` (the default) dismisses each line after a reading delay
  while Neuro is connected; ``"neuro"`` registers an action she may use to
  advance; ``"player"`` leaves it to the person at the keyboard.

**Lifecycle.**  The run starts in ``config.start_callbacks`` and ends in
``config.quit_callbacks``, which Ren'Py also runs when it reloads the script
(Shift+R) after its loop has stopped: :meth:`RenpyNeuro.shutdown` then pumps
trio itself until the websocket is closed and the run has finished.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Callable, Final, TypeVar

import renpy
import renpy.display.core
from renpy.display.core import EndInteraction

from neuro_bridge.component import SPEECH_FINISHED_EVENT, ActionResult
from neuro_bridge.engines import renpy_compat
from neuro_bridge.game import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    CommandQueueFullError,
    NeuroGame,
    OutboxFullError,
)
from neuro_bridge.protocol import (
    Action,
    ForcePriority,
    LocalProtocolError,
    check_action_name,
    check_context,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from neuro_bridge.component import ActionHandler

__all__ = [
    "ADVANCE_MODES",
    "DEFAULTS",
    "RenpyHost",
    "RenpyNeuro",
    "ask",
    "connected",
    "current",
    "force",
    "install",
    "register_action",
    "send_context",
    "unregister_action",
]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: Who advances dialogue: see the ``neuro.advance`` setting.
ADVANCE_MODES: Final = ("auto", "neuro", "player")

#: What Neuro is offered on the main menu: see the ``neuro.main_menu`` setting.
MAIN_MENU_MODES: Final = ("story", "all", "player")

#: The actions (class names) of the buttons that start or continue the story,
#: the only ones offered on the main menu with ``neuro.main_menu = "story"``.
STORY_ACTIONS: Final = frozenset({"Start", "Continue", "FileLoad", "QuickLoad"})

#: Buttons Neuro never gets, on any screen (the ``neuro.deny`` default): the
#: names of Ren'Py action classes, and ``"preferences"`` for every action that
#: sets a preference.  Quitting, web pages, language, preferences and sound,
#: deleting or overwriting saves, the game menu, going back.
DENY: Final = (
    "Quit",
    "OpenURL",
    "Language",
    "preferences",
    "SetMixer",
    "SetMute",
    "ToggleMute",
    "FileDelete",
    "FileSave",
    "FileAction",
    "QuickSave",
    "ShowMenu",
    "MainMenu",
    "Help",
    "Rollback",
    "RollbackToIdentifier",
    "RollForward",
)

#: Every setting and its default; ``plugins/renpy/neuro.rpy`` defines these in the
#: ``neuro`` store namespace, and games change them with ``define neuro.<name>``.
DEFAULTS: Final[Mapping[str, object]] = {
    "enabled": True,
    "url": None,
    "game": None,
    "menus": True,
    "menu_action": "choose",
    "dialogue": True,
    "dialogue_silent": True,
    "state_lines": 8,
    "offline_lines": 20,
    "inputs": True,
    "input_action": "enter_text",
    "advance": "auto",
    "advance_delay": 2.0,
    "advance_per_character": 0.04,
    "advance_action": "advance",
    "wait_for_speech": 0.0,
    "wait_for_voice": 30.0,
    "screens": True,
    "screen_action": "click",
    "main_menu": "story",
    "deny": DENY,
    "priority": "low",
}


class RenpyHost:
    """The :class:`~neuro_bridge.guest.Host` for Ren'Py: posts its ``PERIODIC`` event.

    Ren'Py answers a ``PERIODIC`` event by running ``config.periodic_callbacks``
    at once, where the plugin pumps trio.  The event goes through the pygame
    module Ren'Py's display core uses (``pygame_sdl2``, or ``renpy.pygame`` on
    8.5+).  A failed post (display not up yet, or gone) is harmless: the plugin
    also pumps at the start of every interaction, and Ren'Py's own timer posts
    ``PERIODIC`` every 50 ms during interactions.

    Attributes:
        posted: Wake events posted so far.
        post_failures: Posts that failed.

    """

    def __init__(self) -> None:
        self.event_type = renpy.display.core.PERIODIC
        self.posted = 0
        self.post_failures = 0
        self._pygame = renpy_compat.pygame_module(renpy.display.core)
        self._failure_logged = False

    def wake(self) -> None:
        """Post ``PERIODIC``; any thread, never blocks, never raises."""
        try:
            self._pygame.event.post(self._pygame.event.Event(self.event_type))
        except Exception as exc:  # no display yet, or a full queue
            self.post_failures += 1
            if not self._failure_logged:
                self._failure_logged = True
                logger.debug("could not post Ren'Py's PERIODIC event: %s", exc)
        else:
            self.posted += 1
            self._failure_logged = False


# ---------------------------------------------------------------- settings


def _read_settings(namespace: object) -> dict[str, Any]:
    """Read and check every setting from the ``neuro`` store namespace.

    A bad value raises under ``config.developer`` and is replaced by its
    default (with an error logged) in a shipped game.
    """
    settings: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        value = getattr(namespace, name, default)
        try:
            settings[name] = _check_setting(name, value)
        except (TypeError, ValueError) as exc:
            if renpy.config.developer:
                raise
            logger.error("neuro.%s: %s; using %r", name, exc, default)
            settings[name] = default
    return settings


def _check_setting(name: str, value: object) -> object:
    default = DEFAULTS[name]
    if name in ("url", "game"):
        if value is not None and not (isinstance(value, str) and value):
            raise TypeError(f"must be None or a non-empty str, not {value!r}")
        return value
    if name in ("menu_action", "input_action", "advance_action", "screen_action"):
        return check_action_name(value)
    if name == "advance":
        if value not in ADVANCE_MODES:
            raise ValueError(f"must be one of {ADVANCE_MODES}, not {value!r}")
        return value
    if name == "main_menu":
        if value not in MAIN_MENU_MODES:
            raise ValueError(f"must be one of {MAIN_MENU_MODES}, not {value!r}")
        return value
    if name == "deny":
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise TypeError(f"must be a list of action names, not {value!r}")
        if not all(isinstance(item, str) for item in value):
            raise TypeError(f"must hold only str, not {value!r}")
        return frozenset(value)
    if name == "priority":
        return ForcePriority(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"must be True or False, not {value!r}")
        return value
    if isinstance(default, int) and not isinstance(value, bool) and isinstance(value, int):
        if value < 0:
            raise ValueError(f"must be >= 0, not {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"must be a number >= 0, not {value!r}")
        return float(value)
    raise TypeError(f"unexpected value {value!r}")


# ---------------------------------------------------------------- text


def plain_text(text: object, *, substitute: bool = True) -> str:
    """Return *text* as Neuro should read it, without text tags.

    With *substitute*, it is also translated and its ``[variables]`` are filled
    in, as the screen shows it (history entries are substituted already).
    """
    if not isinstance(text, str):
        return "" if text is None else str(text)
    if substitute:
        try:
            text = renpy.exports.substitute(text)
        except Exception:  # a caption naming a variable that is gone: show it raw
            logger.debug("could not substitute %r", text, exc_info=True)
    return str(renpy.exports.filter_text_tags(text, allow=[])).strip()


def _unique(captions: Iterable[str]) -> list[str]:
    """Make captions distinct (an enum cannot repeat a value): ``"Yes"``, ``"Yes (2)"``."""
    seen: dict[str, int] = {}
    result = []
    for caption in captions:
        count = seen.get(caption, 0) + 1
        seen[caption] = count
        result.append(caption if count == 1 else f"{caption} ({count})")
    return result


# ---------------------------------------------------------------- windows


class _Window:
    """One interaction Neuro is asked to end: a menu, an input, a screen, an ``ask``.

    ``waiting`` until its interaction starts, ``shown`` during it, ``closed``
    after.  Neuro's answer is accepted only while shown, in the same context
    (not while the player is in the game menu); what it does on Ren'Py's side
    (:attr:`apply`) runs from the next periodic callback, inside the
    interaction, as a click would.

    Attributes:
        screen: The screen whose buttons are offered (screens only).
        offered: Whether its action has been registered and forced.
        won: Neuro's answer succeeded (the one-shot action unregistered itself).
        apply: What to do in the periodic callback; ends the interaction
            (raises) or returns to let it go on.

    """

    def __init__(
        self, action_name: str, *, screen: str | None = None, state: str = "waiting"
    ) -> None:
        self.action_name = action_name
        self.screen = screen
        self.context = renpy.game.context()
        self.state = state
        self.offered = False
        self.won = False
        self.apply: Callable[[], None] | None = None
        #: The captions last offered (screens), to notice when the screen changes.
        self.signature: tuple[str, ...] | None = None
        #: The deadline of a timed choice, in seconds (menus; None: not looked for yet).
        self.timed: float | None = None
        #: Neuro has typed into the screen's text field (screens): its buttons are next.
        self.typed = False
        #: Set while a nested context (a phone, a replay) asks something else:
        #: its offer is withdrawn and made again once its context is back.
        self.suspended = False
        #: What :meth:`RenpyNeuro._offer` was given, to offer it again.
        self.offer_args: tuple[Action, str, _Answer, str | None] | None = None
        #: The (query, state) of a force not handed to the game's queue yet.
        self.force: tuple[str, str | None] | None = None

    def accepting(self) -> bool:
        return self.state == "shown" and renpy.game.context() is self.context

    def end_with(self, value: object) -> Callable[[], None]:
        """Return an :attr:`apply` that ends the interaction with *value*."""

        def end() -> None:
            self.state = "closed"
            raise EndInteraction(value)

        return end


_Answer = Callable[[_Window, "Mapping[str, Any]"], ActionResult]


class RenpyNeuro:
    """The plugin's live half: one per script load, made by :func:`install`.

    Owns the game API (:attr:`api`) and the guest run, the Ren'Py callbacks,
    the menu/input windows and the recent dialogue.  Script code uses the
    module-level functions (:func:`send_context`, :func:`register_action`,
    :func:`force`, :func:`ask`, ...), which reach the current instance.

    Args:
        settings: The checked settings (see :data:`DEFAULTS`).

    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)
        title = self.settings["game"] or renpy.config.name or renpy.config.window_title
        self.game_title = title if isinstance(title, str) and title else "Ren'Py game"
        self.host = RenpyHost()
        self.api = NeuroGame(self.game_title, self.settings["url"], host=self.host)
        self.recent: collections.deque[str] = collections.deque(
            maxlen=max(int(self.settings["state_lines"]), 1)
        )
        # Context Neuro has not had yet (she was away, or the game was skipping):
        # only the last lines, sent as one context when she is back.
        self.unsent: collections.deque[tuple[str, bool]] = collections.deque(
            maxlen=max(int(self.settings["offline_lines"]), 1)
        )
        self.window: _Window | None = None
        #: Windows of outer contexts, suspended while a nested one asks (innermost last).
        self.suspended: list[_Window] = []
        # A Ren'Py exception (jump, call, ...) a handler raised, re-raised from
        # the next periodic callback once the handler's result is on its way.
        self._deferred: BaseException | None = None
        # The line last reported as "current" (shown), whose repeat is dropped.
        self._last_line: tuple[object, object] | None = None
        # What auto-advancing waits on (see _waiting_on) and since when it is
        # fully shown (None: not yet).
        self._advance_key: tuple[object, ...] | None = None
        self._shown_at: float | None = None
        # When auto-advance last queued a dismiss for that wait (None: not yet).
        self._dismissed_at: float | None = None
        # Since when the line's voice has been playing (see wait_for_voice).
        self._voice_since: float | None = None
        # When Neuro was last given a line to read aloud, until her
        # speech_finished (see the wait_for_speech setting).
        self._speaking_since: float | None = None
        self._started = False
        #: Set when one of the plugin's callbacks raised: it is off for the session.
        self.failed = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the guest run and connect (``config.start_callbacks``); idempotent."""
        if self._started or not self.settings["enabled"]:
            return
        self._started = True
        self.api.on(SPEECH_FINISHED_EVENT, self._speech_finished)
        if self.settings["advance"] == "neuro":
            self.api.add_action(
                Action(self.settings["advance_action"], "Continue to the next line of dialogue."),
                self._advance_handler,
            )
        self.api.start()
        logger.info("Neuro plugin started for %r", self.game_title)

    def shutdown(self) -> None:
        """Close the connection and end the run (``config.quit_callbacks``).

        Runs after Ren'Py's loop has stopped (on quit and on script reload), so
        it pumps trio itself until the run has finished.
        """
        self.window = None
        self.suspended.clear()
        if not self._started:
            return
        try:
            self.flush(skipping_too=True)
        except Exception:
            logger.debug("could not send the last lines", exc_info=True)
        self._started = False
        try:
            self.api.shutdown(DEFAULT_SHUTDOWN_TIMEOUT)
        except Exception:
            logger.exception("the Neuro connection did not shut down cleanly")

    def fail(self, where: str) -> None:
        """Turn the plugin off after an exception of its own (call from ``except``).

        The exception is logged to ``log.txt`` with its traceback, once; the
        connection closes and every hook hands straight over to Ren'Py from
        then on, so the game goes on as without the plugin.
        """
        if self.failed:
            return
        self.failed = True
        logger.error(
            "the Neuro plugin failed in %s and is off until the game restarts; "
            "the game goes on without it",
            where,
            exc_info=True,
        )
        self.window = None
        self.suspended.clear()
        self.unsent.clear()
        try:
            self.shutdown()
        except Exception:  # already logged what matters
            logger.debug("shutting down after the failure failed too", exc_info=True)

    def pump(self) -> None:
        """Run trio's pending work (handlers included) now."""
        if self._started:
            self.api.pump()

    # ------------------------------------------------------------ Ren'Py callbacks

    def periodic(self) -> None:
        """``config.periodic_callbacks``: pump, then apply what Neuro decided."""
        self.pump()
        self.flush()
        deferred = self._deferred
        if deferred is not None and not getattr(renpy.exports.context(), "_menu", False):
            # A script handler's jump or call, once the game menu (if it was
            # open) is closed: it belongs to the story, not to the menu.
            self._deferred = None
            raise deferred
        window = self.window
        if window is not None and window.force is not None:
            self._force(window)
        if window is not None and window.accepting():
            if window.suspended:
                self._resume(window)
            apply, window.apply = window.apply, None
            if apply is not None:
                apply()
            elif window.screen is not None:
                self._offer_screen(window)
            elif window.timed is None:
                self._note_deadline(window)
        elif window is None and self._started and self.settings["screens"]:
            self._offer_main_menu()
        if self.settings["advance"] == "auto":
            self._auto_advance()

    def start_interact(self) -> None:
        """``config.start_interact_callbacks``: track windows, then pump."""
        window = self.window
        if window is not None:
            if renpy.game.context() is window.context:
                if window.state == "waiting":
                    window.state = "shown"
                elif window.state == "shown":  # its interaction ended (a click)
                    self.close_window(window)
            elif window.context not in renpy.game.contexts:  # left by a jump
                self.close_window(window)
        self.pump()
        self.flush()
        if window is not None and window.force is not None:
            self._force(window)
        if window is not None and window.apply is not None:
            self.host.wake()  # applied from the periodic callback

    def history(self, entry: Any) -> None:
        """``config.history_callbacks``: send each line of dialogue once.

        Ren'Py 8.1+ reports a line twice: as ``"current"`` when it is shown
        (``config.history_current_dialogue``), and again when it is dismissed.
        The first report is sent; the repeat is recognised and dropped.
        """
        key = (entry.who, entry.what)
        shown, self._last_line = self._last_line, None
        if getattr(entry, "kind", None) == "current":
            self._last_line = key
        elif key == shown:
            return
        # The history holds the text as shown: substituted already.
        who = plain_text(entry.who, substitute=False)
        what = plain_text(entry.what, substitute=False)
        if not what.strip():  # a blank line tells Neuro nothing (and is refused)
            return
        line = f"{who}: {what}" if who else what
        self.recent.append(line)
        if self.settings["dialogue"] and self._started:
            self.tell(line, self.settings["dialogue_silent"])

    def tell(self, message: str, silent: bool) -> None:
        """Send *message* as context now, or keep it for when Neuro is back.

        While she is away (and while the game skips), only the last
        ``offline_lines`` messages are kept; :meth:`flush` sends them as one
        context.  Never raises because she is away.
        """
        if self.unsent or not self._can_send():
            self.unsent.append((message, silent))
            return
        try:
            self.api.send_context(message, silent)
        except (OutboxFullError, CommandQueueFullError):  # she just left
            self.unsent.append((message, silent))
        else:
            if not silent:
                self._speaking_since = time.monotonic()

    def _speech_finished(self, event: Any) -> None:
        """``speech_finished`` from Neuro: the line she read aloud is done."""
        if getattr(event, "is_final", True) or getattr(event, "cancelled", False):
            self._speaking_since = None

    def _speaking(self, now: float) -> bool:
        """Whether auto-advance waits for Neuro to finish reading aloud (capped)."""
        cap: float = self.settings["wait_for_speech"]
        since = self._speaking_since
        return cap > 0 and since is not None and now - since < cap

    def _voicing(self, now: float) -> bool:
        """Whether auto-advance waits for the line's voice to finish (capped).

        The wait ends when the voice channel stops, or after
        ``neuro.wait_for_voice`` seconds: a voice that never reports its end
        (an audio device that does not play) does not hold the game for good.
        """
        cap: float = self.settings["wait_for_voice"]
        if cap <= 0 or not _voice_playing():
            self._voice_since = None
            return False
        if self._voice_since is None:
            self._voice_since = now
        return now - self._voice_since < cap

    def _can_send(self) -> bool:
        return self._started and self.api.connected and not renpy.config.skipping

    def flush(self, *, skipping_too: bool = False) -> None:
        """Send what Neuro missed as one context, once she is connected and play is not skipping.

        With *skipping_too*, even while the game skips (it is quitting).
        """
        if not self.unsent:
            return
        if not (self._can_send() or (skipping_too and self._started and self.api.connected)):
            return
        messages = list(self.unsent)
        text = "\n".join(message for message, _ in messages)
        silent = all(silent for _, silent in messages)
        try:
            self.api.send_context(f"The story so far (latest lines):\n{text}", silent)
        except (OutboxFullError, CommandQueueFullError):
            return
        self.unsent.clear()
        if not silent:
            self._speaking_since = time.monotonic()

    def _waiting_on(self) -> tuple[object, ...] | None:
        """Return what the game waits on that a click would dismiss, or None.

        A line of dialogue (ADV or NVL, ``extend`` included) or a ``pause``,
        in any context but the game menu and the main menu (so replays and
        other nested contexts count); not a hard pause, which ignores clicks
        and is left to run its time.  The value names the statement, so it
        changes with each line, not with each restart of the interaction.
        """
        mode = renpy.exports.get_mode()
        if mode not in _DISMISSED_MODES:
            return None
        if mode == "pause" and _hard_pause():
            return None
        info = renpy.exports.context()
        if getattr(info, "_menu", False) or getattr(info, "_main_menu", False):
            return None
        context = renpy.game.context()
        return (id(context), len(renpy.game.contexts), context.current, mode)

    def _reading_delay(self, mode: object) -> float:
        delay: float = self.settings["advance_delay"]
        if mode in ("say", "nvl"):
            what = getattr(renpy.store, "_last_say_what", None)
            text = plain_text(what, substitute=False) if isinstance(what, str) else ""
            delay += self.settings["advance_per_character"] * len(text)
        return delay

    def _auto_advance(self) -> None:
        """Dismiss the line or pause Neuro has had time to read.

        The reading delay counts from when the line is fully shown and its
        voice has finished.  A dismiss the line ignored (Ren'Py had not
        focused it yet) is sent again, no sooner than ``_DISMISS_AGAIN``
        seconds after: one still queued would otherwise end the next line
        unread.
        """
        waiting = self._waiting_on() if self._started and self.api.connected else None
        now = time.monotonic()
        if waiting != self._advance_key:
            self._advance_key = waiting
            self._shown_at = None
            self._dismissed_at = None
            self._voice_since = None
        if waiting is None:
            return
        if not _fully_shown() or self._voicing(now) or self._speaking(now):
            self._shown_at = None
            return
        if self._shown_at is None:
            self._shown_at = now
        delay = self._reading_delay(waiting[-1])
        if now - self._shown_at < delay:
            return
        dismissed = self._dismissed_at
        if dismissed is None or now - dismissed >= max(delay, _DISMISS_AGAIN):
            self._dismissed_at = now
            renpy.exports.queue_event("dismiss")

    def _advance_handler(self, data: Mapping[str, Any]) -> ActionResult:
        if self._waiting_on() is None:
            if renpy.exports.get_mode() == "pause" and _hard_pause():
                return ActionResult(False, "The game is in a pause that cannot be skipped; wait.")
            return ActionResult(False, "There is no dialogue to advance right now.")
        renpy.exports.queue_event("dismiss")
        return ActionResult(True)

    # ------------------------------------------------------------ windows

    def state_text(self) -> str | None:
        """Return the recent dialogue, one line each, for a force's state."""
        return "\n".join(self.recent) or None

    def open_window(
        self,
        action: Action,
        query: str,
        handler: _Answer,
        *,
        state: str | None = None,
    ) -> _Window:
        """Register *action* for the next interaction and force it; return its window.

        *handler* gets the window and Neuro's data while the window accepts an
        answer; on success it sets ``window.apply``.
        """
        window = self._new_window(action.name)
        self._offer(window, action, query, handler, state=state)
        return window

    def _new_window(
        self, action_name: str, *, screen: str | None = None, state: str = "waiting"
    ) -> _Window:
        """Make the window of the next interaction the current one.

        The window it replaces is closed -- unless it belongs to an outer
        context that is still there (a phone called in a new context while a
        menu waits): then it is suspended, and offered again when the nested
        context is done with.
        """
        window = _Window(action_name, screen=screen, state=state)
        previous, self.window = self.window, window
        if previous is not None:
            outer = previous.context is not window.context
            if outer and previous.state != "closed" and previous.context in renpy.game.contexts:
                self._suspend(previous)
            else:
                self._close(previous)
        return window

    def _suspend(self, window: _Window) -> None:
        if window.offered:
            if not window.won and self.api.is_registered(window.action_name):
                self.api.remove_action(window.action_name)
            self.api.withdraw_force(window)
        window.offered = False
        window.force = None
        window.signature = None
        window.suspended = True
        self.suspended.append(window)

    def _resume(self, window: _Window) -> None:
        """Offer a suspended window again, now that its context is current."""
        window.suspended = False
        if window.screen is None and window.offer_args is not None and not window.won:
            action, query, handler, state = window.offer_args
            self._offer(window, action, query, handler, state=state)

    def _offer(
        self,
        window: _Window,
        action: Action,
        query: str,
        handler: _Answer,
        *,
        state: str | None = None,
    ) -> None:
        window.offered = True
        window.won = False
        window.offer_args = (action, query, handler, state)

        def answer(data: Mapping[str, Any]) -> ActionResult:
            if window.state == "closed" or self.window is not window:
                return ActionResult(False, "Too late: that choice has already been made.")
            if window.state != "shown" or window.context not in renpy.game.contexts:
                return ActionResult(False, "The game is busy elsewhere; try again in a moment.")
            # Accepted even while the game menu is open above it: it takes
            # effect once the window's own context is back (see periodic).
            result = handler(window, data)
            if result.success:
                window.won = True
                self.host.wake()
            return result

        api = self.api
        if api.is_registered(action.name):
            api.remove_action(action.name)
        api.add_action(action, answer, one_shot=True)
        window.force = (query, state if state is not None else self.state_text())
        self._force(window)

    def _force(self, window: _Window) -> None:
        """Queue the window's force (it waits its turn behind another one in flight)."""
        if window.force is None or window.state == "closed":
            return
        query, state = window.force
        self.api.force(
            query,
            [window.action_name],
            state=state,
            priority=self.settings["priority"],
            owner=window,
        )
        window.force = None

    def close_window(self, window: _Window) -> None:
        """End *window*: unregister its action unless Neuro's answer already did.

        The window suspended below it, if any, becomes the current one again.
        """
        if window in self.suspended:
            self.suspended.remove(window)
        if self.window is window:
            self.window = None
            while self.suspended and self.window is None:
                outer = self.suspended.pop()
                if outer.context in renpy.game.contexts:
                    self.window = outer
                else:
                    self._close(outer)
        self._close(window)

    def _close(self, window: _Window) -> None:
        window.state = "closed"
        if window.offered and not window.won and self.api.is_registered(window.action_name):
            self.api.remove_action(window.action_name)
        if window.offered:
            self.api.withdraw_force(window)

    def _note_deadline(self, window: _Window) -> None:
        """Tell Neuro how long she has, once the menu is on screen with a ``timer``.

        The screens shown with a menu (a countdown) are only built when its
        interaction starts, after its force went out: when one holds a one-shot
        timer, the force is made again with the time in its query.
        """
        window.timed = _deadline()
        if not window.timed or window.won or window.offer_args is None:
            return
        if window.action_name != self.settings["menu_action"]:
            return
        action, query, handler, state = window.offer_args
        self.api.withdraw_force(window)
        self._offer(
            window,
            action,
            f"{query} (You have {window.timed:g} seconds to choose.)",
            handler,
            state=state,
        )

    def _query(self, default: str) -> str:
        """Return the last line of dialogue (what the game just asked), else *default*."""
        return self.recent[-1] if self.recent else default

    # ------------------------------------------------------------ menus

    def menu_window(self, items: Sequence[Any], kwargs: Mapping[str, Any]) -> _Window | None:
        """Offer the menu ``renpy.display_menu(items, **kwargs)`` is about to show; its window."""
        if not (self._started and self.settings["menus"]) or not kwargs.get("interact", True):
            return None
        if kwargs.get("predict_only") or renpy.exports.in_fixed_rollback():
            return None
        choices: list[tuple[str, Any]] = []  # (caption, ChoiceReturn or value)
        prompt = []
        for label, value in items:
            if value is None:
                if label:
                    prompt.append(plain_text(label))
                continue
            if isinstance(value, renpy.ui.ChoiceReturn) and not value.get_sensitive():
                continue
            choices.append((plain_text(label), value))
        if not choices:
            return None
        captions = _unique(caption for caption, _ in choices)
        by_caption = dict(zip(captions, (value for _, value in choices)))
        action = _choice_action(
            self.settings["menu_action"], "Pick one of the choices on the menu.", captions
        )

        def pick(window: _Window, data: Mapping[str, Any]) -> ActionResult:
            caption = data["choice"]
            value = by_caption[caption]
            if isinstance(value, renpy.ui.ChoiceReturn):
                value = value()  # records the choice as chosen, as a click does
            value = renpy_compat.unwrap_choice(value, getattr(renpy.ui, "Choice", None))
            window.apply = window.end_with(value)
            return ActionResult(True, f"Chose {caption!r}.")

        return self.open_window(action, " ".join(prompt) or self._query(action.description), pick)

    # ------------------------------------------------------------ screens

    def screen_window(self, name: str) -> _Window | None:
        """Offer the buttons of screen *name*, which ``renpy.call_screen`` is about to show.

        The buttons are read once the screen has been drawn (in the next
        periodic callback); Neuro's pick runs the button's action as a click
        does, and is offered again if the screen stays up.
        """
        if not (self._started and self.settings["screens"]):
            return None
        return self._new_window(self.settings["screen_action"], screen=name)

    def _offer_main_menu(self) -> None:
        """Offer the main menu's buttons (see ``neuro.main_menu``) while it waits for a click."""
        if self.settings["main_menu"] == "player":
            return
        if not getattr(renpy.exports.context(), "_main_menu", False):
            return
        if renpy.exports.get_screen("main_menu") is None:
            return
        window = self._new_window(self.settings["screen_action"], screen="main_menu", state="shown")
        self._offer_screen(window)

    def _screen_buttons(self, window: _Window) -> list[tuple[str, Any]]:
        """Return ``(caption, button)`` for the buttons of the window's screen Neuro may click.

        Buttons that cannot be clicked, and those the deny-list (``neuro.deny``)
        names, are left out; on the main menu with ``neuro.main_menu = "story"``
        only the buttons that start or continue the story are kept.  Empty
        while the screen is not shown (a screen the person opened hides it).
        A modal screen shown above it (a confirmation) is read instead: clicks
        would not reach the screen beneath.
        """
        shown = renpy.exports.get_screen(window.screen) if window.screen else None
        if shown is None:
            return []
        above = _modal_above(shown)
        if above is not None:
            shown = above
        story_only = (
            above is None and window.screen == "main_menu" and self.settings["main_menu"] == "story"
        )
        buttons: list[Any] = []

        def visit(displayable: Any) -> None:
            clicked = getattr(displayable, "clicked", None)
            if clicked is None or not isinstance(displayable, renpy.display.behavior.Button):
                return
            if not renpy.display.behavior.is_sensitive(clicked):
                return
            kinds = _action_kinds(clicked)
            if kinds & self.settings["deny"]:
                return
            if story_only and not kinds & STORY_ACTIONS:
                return
            buttons.append(displayable)

        shown.visit_all(visit)
        captions = _unique(_caption(button, number) for number, button in enumerate(buttons, 1))
        return list(zip(captions, buttons))

    def _offer_screen(self, window: _Window) -> None:
        """Offer the window's screen's buttons, again whenever they change.

        Called from each periodic callback while the window's interaction is
        on: when the buttons Neuro holds are no longer what the screen shows
        (a screen the person opened covers it, or it is back), the old offer is
        withdrawn and the new one made.
        """
        field = None
        if not window.typed and self.settings["inputs"]:
            field = self._screen_input(window)
        offer = [] if field is not None else self._screen_buttons(window)
        signature = ("\0input",) if field is not None else tuple(c for c, _ in offer)
        if window.offered and signature == window.signature:
            return
        window.signature = signature
        if window.offered:
            if not window.won and self.api.is_registered(window.action_name):
                self.api.remove_action(window.action_name)
            self.api.withdraw_force(window)
        window.offered = False
        window.force = None
        if field is not None:
            self._offer_screen_input(window, field)
            return
        window.action_name = self.settings["screen_action"]
        if not offer:
            return
        by_caption = dict(offer)
        action = _choice_action(
            self.settings["screen_action"], "Click one of the buttons on the screen.", signature
        )

        def click(window: _Window, data: Mapping[str, Any]) -> ActionResult:
            button = by_caption[data["choice"]]
            if not renpy.display.behavior.is_sensitive(button.clicked):
                return ActionResult(False, f"{data['choice']!r} cannot be clicked right now.")

            def run() -> None:
                value = renpy.exports.run(button.clicked)
                if value is not None:
                    window.end_with(value)()
                window.offered = False  # the screen stays: offer it again
                renpy.exports.restart_interaction()

            window.apply = run
            return ActionResult(True, f"Clicked {data['choice']!r}.")

        self._offer(window, action, self._query(action.description), click)

    def _screen_input(self, window: _Window) -> Any | None:
        """Return the text field (``input`` displayable) of the window's screen, or None."""
        shown = renpy.exports.get_screen(window.screen) if window.screen else None
        if shown is None:
            return None
        fields: list[Any] = []

        def visit(displayable: Any) -> None:
            if isinstance(displayable, renpy.display.behavior.Input):
                fields.append(displayable)

        shown.visit_all(visit)
        editable = [field for field in fields if getattr(field, "editable", False)]
        return (editable or fields or [None])[0]

    def _offer_screen_input(self, window: _Window, field: Any) -> None:
        """Offer the screen's text field as ``enter_text``; the buttons come after it."""
        length = getattr(field, "length", None)
        action = _text_action(
            self.settings["input_action"], "Type what the screen asks for.", length
        )
        allow, exclude = getattr(field, "allow", None), getattr(field, "exclude", None)
        window.action_name = action.name

        def enter(window: _Window, data: Mapping[str, Any]) -> ActionResult:
            text = _typable(str(data["text"]), allow, exclude, length)
            if not text:
                return ActionResult(False, "None of those characters can be typed here.")

            def run() -> None:
                window.typed = True
                window.offered = False  # the screen's buttons come next
                current = self._screen_input(window) or field
                current.update_text(text, current.editable)
                if current.value is not None:
                    value = current.value.enter()
                elif not current.changed:
                    value = text
                else:
                    value = None
                if value is not None:
                    window.end_with(value)()
                renpy.exports.restart_interaction()

            window.apply = run
            return ActionResult(True, f"Typed {text!r}.")

        self._offer(window, action, self._query(action.description), enter)

    # ------------------------------------------------------------ input

    def input_window(
        self, prompt: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> _Window | None:
        """Offer the text ``renpy.input(prompt, *args, **kwargs)`` is about to ask for."""
        if not (self._started and self.settings["inputs"]) or renpy.config.disable_input:
            return None
        if renpy.exports.in_fixed_rollback():
            return None
        options = _input_options(args, kwargs)
        length = options["length"]
        action = _text_action(
            self.settings["input_action"], "Type the text the game asks for.", length
        )
        allow, exclude = options["allow"], options["exclude"]

        def enter(window: _Window, data: Mapping[str, Any]) -> ActionResult:
            text = _typable(str(data["text"]), allow, exclude, length)
            if not text:
                return ActionResult(False, "None of those characters can be typed here.")
            window.apply = window.end_with(text)
            return ActionResult(True, f"Entered {text!r}.")

        return self.open_window(action, plain_text(prompt) or "Type some text.", enter)


#: Seconds before auto-advance sends a dismiss again for a wait that ignored it.
_DISMISS_AGAIN: Final = 1.0

#: Ren'Py's modes in which a click (a ``dismiss`` event) ends what the game waits on.
_DISMISSED_MODES: Final = ("say", "nvl", "pause")


def _fully_shown() -> bool:
    """Whether the say screen's text has finished appearing (slow text done)."""
    try:
        what = renpy.exports.get_widget("say", "what")
    except Exception:  # no say screen (NVL, or a game without one)
        return True
    return not getattr(what, "slow", False)


def _hard_pause() -> bool:
    """Whether the game waits on a pause that ignores clicks.

    ``renpy.pause(..., hard=True)`` (and every pause while ``_dismiss_pause`` is
    False) waits with a say behaviour that only ``dismiss_hard_pause`` ends, not
    ``dismiss`` (a click, and what auto-advance sends); it sits in the current
    context's scene lists, on the transient layer.
    """
    say_behavior = renpy.display.behavior.SayBehavior
    layers = getattr(renpy.game.context().scene_lists, "layers", None) or {}
    dismisses = [
        list(getattr(entry.displayable, "dismiss", None) or ())
        for entries in layers.values()
        for entry in entries
        if isinstance(getattr(entry, "displayable", None), say_behavior)
    ]
    return bool(dismisses) and not any("dismiss" in names for names in dismisses)


def _voice_playing() -> bool:
    """Whether the voice channel is playing (auto-advance waits for it)."""
    try:
        return bool(renpy.audio.music.get_playing(channel="voice"))
    except Exception:  # no voice channel, or no audio
        return False


def _caption(button: Any, number: int) -> str:
    """Return what Neuro reads for *button*.

    Its text (or ``alt``), else its tooltip, else what its action does, else
    its place among the buttons (``Button 3``).
    """
    text = plain_text(renpy_compat.button_text(button), substitute=False)
    if text:
        return text
    tooltip = getattr(button, "_get_tooltip", None)
    try:
        tip = tooltip() if callable(tooltip) else None
    except Exception:  # a tooltip that cannot be read here
        tip = None
    if isinstance(tip, str) and plain_text(tip):
        return plain_text(tip)
    return _describe_action(button.clicked) or f"Button {number}"


#: What an action's attribute tells about where it leads, by action class.
_ACTION_TARGETS: Final = {
    "Jump": ("Go to", "label"),
    "Call": ("Go to", "label"),
    "Show": ("Show", "screen"),
    "ShowTransient": ("Show", "screen"),
    "Return": ("Choose", "value"),
    "Start": ("Start", "label"),
}


def _describe_action(action: Any) -> str:
    """Describe what *action* (or the first of a list) does, from its class: ``Go to garden``."""
    while isinstance(action, (list, tuple)) and action:
        action = action[0]
    kind = type(action).__name__
    if kind not in _ACTION_TARGETS:
        return ""
    verb, attribute = _ACTION_TARGETS[kind]
    target = getattr(action, attribute, None)
    if target is None or (isinstance(target, (bool, int, float)) and kind != "Return"):
        return verb
    return f"{verb} {plain_text(str(target), substitute=False)}".strip()


def _deadline() -> float:
    """Return the shortest one-shot ``timer`` on a shown screen (a timed choice), or 0."""
    delays: list[float] = []

    def visit(displayable: Any) -> None:
        if isinstance(displayable, renpy.display.behavior.Timer) and not displayable.repeat:
            delays.append(float(displayable.delay))

    try:
        for entry in renpy.game.context().scene_lists.layers.get("screens", ()):
            visit_all = getattr(getattr(entry, "displayable", None), "visit_all", None)
            if callable(visit_all):
                visit_all(visit)
    except Exception:  # another Ren'Py's layout of the scene lists: no deadline known
        logger.debug("could not look for timers", exc_info=True)
    return min(delays, default=0.0)


def _modal_above(shown: Any) -> Any | None:
    """Return the topmost modal screen drawn above the screen *shown*, or None."""
    try:
        entries = list(renpy.game.context().scene_lists.layers.get("screens", ()))
    except Exception:  # another Ren'Py's layout of the scene lists: read the screen itself
        return None
    above = None
    seen = False
    for entry in entries:
        displayable = getattr(entry, "displayable", None)
        if displayable is shown:
            seen = True
            continue
        modal = getattr(displayable, "modal", False)
        if seen and modal and not callable(modal) and hasattr(displayable, "visit_all"):
            above = displayable
    return above


def _choice_action(name: str, description: str, captions: Sequence[str]) -> Action:
    """Return an action whose data picks one of *captions*: ``{"choice": caption}``."""
    return Action(
        name,
        description,
        {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": list(captions)}},
            "required": ["choice"],
        },
    )


def _action_kinds(action: Any) -> frozenset[str]:
    """Return the class names of *action* (a Ren'Py action, or a list of them).

    An action that sets a preference (``SetField``/``ToggleField``/... on
    ``_preferences``, what ``Preference(...)`` returns) also counts as
    ``"preferences"``.
    """
    kinds: set[str] = set()
    stack = [action]
    preferences = getattr(renpy.store, "_preferences", None)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if item is None:
            continue
        kinds.add(type(item).__name__)
        target = getattr(item, "object", None)
        if preferences is not None and target is preferences:
            kinds.add("preferences")
    return frozenset(kinds)


def _text_action(name: str, description: str, length: object) -> Action:
    """Return an action whose data is the text to type: ``{"text": "..."}``."""
    text_schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if isinstance(length, int) and length > 0:
        text_schema["maxLength"] = length
    return Action(
        name,
        description,
        {"type": "object", "properties": {"text": text_schema}, "required": ["text"]},
    )


#: Never typed for Neuro: text tags and interpolation would break where the text is shown.
_UNTYPABLE: Final = "{}[]"


def _typable(text: str, allow: object, exclude: object, length: object) -> str:
    """Return what of *text* an input with *allow*, *exclude* and *length* would take."""
    kept = "".join(
        c
        for c in text
        if c not in _UNTYPABLE
        and (not allow or c in str(allow))
        and (not exclude or c not in str(exclude))
    ).strip()
    if isinstance(length, int) and length > 0:
        kept = kept[:length].strip()
    return kept


def _input_options(args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``length``, ``allow`` and ``exclude`` a ``renpy.input`` call uses."""
    names = ("default", "allow", "exclude", "length")
    defaults: dict[str, Any] = {"default": "", "allow": None, "exclude": "{}", "length": None}
    options = dict(defaults)
    options.update(zip(names, args))
    options.update({k: v for k, v in kwargs.items() if k in defaults})
    return options


# ---------------------------------------------------------------- installation

_current: RenpyNeuro | None = None
_original_display_menu: Callable[..., Any] | None = None
_original_input: Callable[..., Any] | None = None
_original_call_screen: Callable[..., Any] | None = None


def current() -> RenpyNeuro | None:
    """Return the plugin instance of this script load, or ``None`` before :func:`install`."""
    return _current


def install(namespace: object) -> RenpyNeuro:
    """Read the settings from *namespace* (``store.neuro``) and hook into Ren'Py.

    Called by the plugin at ``init 500`` on every script load (Ren'Py resets
    ``config`` and :mod:`renpy.exports` when it reloads the script, so the hooks
    are added each time).  An instance left running by a load that did not shut
    it down is shut down first.

    Raises:
        TypeError, ValueError: A setting is invalid and ``config.developer`` is on.

    """
    global _current
    _log_to_renpy()
    settings = _read_settings(namespace)
    if _current is not None:
        _current.shutdown()
    plugin = RenpyNeuro(settings)
    _current = plugin
    config = renpy.config
    config.start_callbacks.append(_on_start)
    config.after_load_callbacks.append(_on_after_load)
    config.periodic_callbacks.append(_on_periodic)
    config.start_interact_callbacks.append(_on_start_interact)
    config.history_callbacks.append(_on_history)
    config.quit_callbacks.append(_on_quit)
    if config.history_length is None:
        config.history_length = 1  # history callbacks only run with a history
    _hook_exports()
    return plugin


class _RenpyLogHandler(logging.Handler):
    """Writes the runtime's log records into Ren'Py's ``log.txt``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            renpy.display.log.write("%s", self.format(record))
        except Exception:  # the log is closed (quitting): nowhere to write
            self.handleError(record)


def _log_to_renpy() -> None:
    """Send ``neuro_bridge`` log records to ``log.txt`` (level: ``$NEURO_BRIDGE_LOG_LEVEL``)."""
    root = logging.getLogger("neuro_bridge")
    if not any(isinstance(handler, _RenpyLogHandler) for handler in root.handlers):
        handler = _RenpyLogHandler()
        handler.setFormatter(logging.Formatter("neuro-bridge %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    level = logging.getLevelName(os.environ.get("NEURO_BRIDGE_LOG_LEVEL", "INFO").upper())
    root.setLevel(level if isinstance(level, int) else logging.INFO)


def _hook_exports() -> None:
    global _original_display_menu, _original_input, _original_call_screen
    exports = renpy.exports
    if exports.display_menu is not neuro_display_menu:
        _original_display_menu = exports.display_menu
        exports.display_menu = neuro_display_menu
    if renpy.store.menu is _original_display_menu:
        renpy.store.menu = neuro_display_menu
    if exports.input is not neuro_input:
        _original_input = exports.input
        exports.input = neuro_input
    if exports.call_screen is not neuro_call_screen:
        _original_call_screen = exports.call_screen
        exports.call_screen = neuro_call_screen


def _installed(original: Callable[..., Any] | None) -> Callable[..., Any]:
    """Return the Ren'Py function a wrapper stands in for, saved by :func:`install`."""
    if original is None:  # pragma: no cover - only reachable before install()
        raise RuntimeError("the Neuro plugin is not installed")
    return original


#: Ren'Py's control flow (jumps, calls, restarts, quit, the end of an
#: interaction): the plugin's hooks let these through, and nothing else.
_CONTROL = renpy_compat.control_exceptions(renpy.game, EndInteraction)


def _active() -> RenpyNeuro | None:
    """Return the plugin instance if it is installed and has not failed."""
    plugin = _current
    return None if plugin is None or plugin.failed else plugin


def _guard(where: str, call: Callable[[RenpyNeuro], T]) -> T | None:
    """Run ``call(plugin)``; an exception of the plugin's own turns it off.

    See :meth:`RenpyNeuro.fail`.  Ren'Py's control-flow exceptions pass.
    Returns None when the plugin is off.
    """
    plugin = _active()
    if plugin is None:
        return None
    try:
        return call(plugin)
    except _CONTROL:
        raise
    except Exception:
        plugin.fail(where)
        return None


def _hooked(
    original: Callable[..., Any],
    where: str,
    open_window: Callable[[RenpyNeuro], _Window | None],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Run Ren'Py's *original* with the window *open_window* offers to Neuro around it.

    The plugin's part is guarded (:func:`_guard`); the game's part -- *original*
    -- runs whatever happens to the plugin, and its exceptions are the game's.
    """
    window = _guard(where, open_window)
    try:
        return original(*args, **kwargs)
    finally:
        if window is not None:
            _guard(where, lambda plugin: plugin.close_window(window))


def neuro_display_menu(items: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
    """``renpy.display_menu``, offered to Neuro (see :meth:`RenpyNeuro.menu_window`)."""
    original = _installed(_original_display_menu)
    if args:
        return original(items, *args, **kwargs)
    return _hooked(
        original, "a menu", lambda plugin: plugin.menu_window(items, kwargs), items, **kwargs
    )


def neuro_input(prompt: Any, *args: Any, **kwargs: Any) -> Any:
    """``renpy.input``, offered to Neuro (see :meth:`RenpyNeuro.input_window`)."""
    original = _installed(_original_input)
    return _hooked(
        original,
        "a text input",
        lambda plugin: plugin.input_window(prompt, args, kwargs),
        prompt,
        *args,
        **kwargs,
    )


def neuro_call_screen(_screen_name: str, *args: Any, **kwargs: Any) -> Any:
    """``renpy.call_screen``, offered to Neuro (see :meth:`RenpyNeuro.screen_window`)."""
    original = _installed(_original_call_screen)
    return _hooked(
        original,
        "a called screen",
        lambda plugin: plugin.screen_window(_screen_name),
        _screen_name,
        *args,
        **kwargs,
    )


# Saved games pickle functions by name: if the game stores ``menu =
# renpy.display_menu``, the save names Ren'Py's function, and loads with or
# without the plugin.
for _hook, _name in (
    (neuro_display_menu, "display_menu"),
    (neuro_input, "input"),
    (neuro_call_screen, "call_screen"),
):
    _hook.__module__ = "renpy.exports"
    _hook.__qualname__ = _hook.__name__ = _name


def _on_start() -> None:
    _guard("starting", RenpyNeuro.start)


def _on_after_load() -> None:
    def reset(plugin: RenpyNeuro) -> None:
        # A load ends every window: its action and its force go (a click
        # force left in flight by the main menu's Load would block the rest).
        for window in [*plugin.suspended, plugin.window]:
            if window is not None:
                plugin.close_window(window)
        plugin.start()

    _guard("loading a save", reset)


def _on_periodic() -> None:
    _guard("a periodic callback", RenpyNeuro.periodic)


def _on_start_interact() -> None:
    _guard("starting an interaction", RenpyNeuro.start_interact)


def _on_history(entry: Any) -> None:
    _guard("reading a line of dialogue", lambda plugin: plugin.history(entry))


def _on_quit() -> None:
    _guard("quitting", RenpyNeuro.shutdown)


# ---------------------------------------------------------------- script API


def _plugin() -> RenpyNeuro | None:
    """Return the plugin for the script API; None once it has turned itself off.

    Raises:
        RuntimeError: It was never installed (``neuro.rpy`` is not in ``game/``).

    """
    plugin = _current
    if plugin is None:
        raise RuntimeError("the Neuro plugin is not installed (is neuro.rpy in game/?)")
    return None if plugin.failed else plugin


def connected() -> bool:
    """Return whether Neuro is connected right now (``neuro.connected()``)."""
    plugin = _active()
    return plugin is not None and plugin._started and plugin.api.connected


def send_context(message: str, silent: bool = True) -> None:
    """Tell Neuro what is happening (``neuro.send_context``).

    While she is away the last ``offline_lines`` messages are kept and sent as
    one context when she connects; this never raises because she is away.

    Args:
        message: What to tell her, as plain text.
        silent: If false, she may answer aloud.

    Raises:
        LocalProtocolError: *message* is not a str, or is blank.

    """
    check_context(message, silent)
    plugin = _plugin()
    if plugin is not None:
        plugin.tell(message, silent)


def register_action(
    name: str,
    description: str,
    handler: Callable[[dict[str, Any]], Any],
    schema: dict[str, Any] | None = None,
    *,
    one_shot: bool = False,
) -> None:
    """Let Neuro perform action *name* whenever she likes (``neuro.register_action``).

    Args:
        name: The action's name (lowercase, digits, ``_`` and ``-``).
        description: What the action does, for Neuro.
        handler: Called with the action's data (a dict) between frames, on
            Ren'Py's thread.  It may change store variables and call Ren'Py
            functions; ``renpy.jump``, ``renpy.call`` and
            ``renpy.end_interaction`` take effect right after Neuro has been
            told the action succeeded.  It returns None or a message
            (success), False or ``(False, "why")`` (failure); an exception is
            a failure too.
        schema: A JSON schema for the data, or None for an action without data.
        one_shot: Unregister the action after its first success.

    Raises:
        LocalProtocolError: The name, description or schema breaks the API's
            rules, or *name* is registered with another definition.
        TypeError: *handler* is not callable.

    """
    plugin = _plugin()
    action = Action(name, description, schema)
    wrapped = _renpy_handler(plugin, handler)
    if plugin is not None:
        plugin.api.add_action(action, wrapped, one_shot=one_shot)


def unregister_action(*names: str) -> None:
    """Stop offering the actions *names* to Neuro (``neuro.unregister_action``).

    Names not registered are ignored.

    Raises:
        LocalProtocolError: A name is not a valid action name.

    """
    plugin = _plugin()
    checked = [check_action_name(name) for name in names]
    if plugin is None:
        return
    registered = [name for name in checked if plugin.api.is_registered(name)]
    if registered:
        plugin.api.remove_action(*registered)


def force(
    query: str,
    names: str | Sequence[str],
    state: str | None = None,
    ephemeral: bool = False,
) -> None:
    """Make Neuro perform one of the registered actions *names* (``neuro.force``).

    Returns at once; her action calls its handler later.  One force at a time:
    it ends when one of its actions succeeds or they are all unregistered; a force
    asked for meanwhile waits its turn.

    Args:
        query: What she should do now.
        names: The action name(s) she may choose from.
        state: The game's state as text; the recent dialogue if None.
        ephemeral: She forgets *query* and *state* once she has acted.

    Raises:
        LocalProtocolError: An argument is invalid or an action is not registered.

    """
    plugin = _plugin()
    if plugin is None:
        return
    plugin.api.force(
        query,
        names,
        state=state if state is not None else plugin.state_text(),
        ephemeral_context=ephemeral,
        priority=plugin.settings["priority"],
    )


def ask(
    query: str,
    choices: Sequence[str],
    timeout: float = 30.0,
    fallback: Any = None,
    name: str = "answer",
    state: str | None = None,
) -> Any:
    """Ask Neuro to pick one of *choices* and wait for her answer (``neuro.ask``).

    Waits inside an interaction (the screen stays as it is, the player's
    clicks do not end it) until she answers or *timeout* seconds pass.

    Args:
        query: The question; also the action's description.
        choices: The answers she may pick from (at least one).
        timeout: Seconds to wait for her.
        fallback: What to return when she is not connected or does not answer.
        name: The name of the action she sees.
        state: The game's state as text; the recent dialogue if None.

    Returns:
        The item of *choices* she picked, or *fallback*.

    Raises:
        LocalProtocolError: *choices* is empty or *name* is not a valid name.

    """
    texts = [str(choice) for choice in choices]
    if not texts:
        raise LocalProtocolError("ask() needs at least one choice")
    plugin = _active()
    if plugin is None or not connected():
        return fallback
    captions = _unique(texts)
    action = _choice_action(name, query, captions)

    def pick(window: _Window, data: Mapping[str, Any]) -> ActionResult:
        window.apply = window.end_with(captions.index(data["choice"]))
        return ActionResult(True, f"Answered {data['choice']!r}.")

    window = _guard("ask", lambda plugin: plugin.open_window(action, query, pick, state=state))
    if window is None:
        return fallback
    try:
        renpy.ui.pausebehavior(timeout, -1)
        result = renpy.ui.interact(mouse="pause", type="neuro")
    finally:
        _guard("ask", lambda plugin: plugin.close_window(window))
    if isinstance(result, int) and 0 <= result < len(choices):
        return choices[result]
    return fallback


def _renpy_handler(
    plugin: RenpyNeuro | None, handler: Callable[[dict[str, Any]], Any]
) -> ActionHandler:
    """Wrap a script handler: Ren'Py's control-flow exceptions run after the answer."""
    if not callable(handler):
        raise TypeError(f"the handler is not callable: {handler!r}")

    def run(data: dict[str, Any]) -> Any:
        try:
            return handler(data)
        except (renpy.game.JumpException, renpy.game.CallException, EndInteraction) as exc:
            if plugin is not None:
                plugin._deferred = exc
                plugin.host.wake()
            return None

    return run

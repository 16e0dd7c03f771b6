"""Neuro as the ``O`` side, through neuro-bridge's pygame shim.

:class:`NeuroOpponent` is an :class:`~neuro_connect_four.game.Opponent` that
shows the whole protocol:

* **context** -- a silent note when a game starts, a spoken one (``silent=False``)
  when it ends, so Neuro can gloat or sulk;
* **a forced action each turn** -- :data:`DROP_ACTION` is registered *one-shot*
  with a schema listing the free columns, then forced with the board as ``state``;
  the runtime unregisters it before sending the successful result, so Neuro
  cannot drop twice;
* **invalid moves** are answered ``success: false`` with the reason from
  :meth:`~neuro_connect_four.board.Board.describe_invalid_move` (e.g. "column 3
  is full; free columns: 1, 2, 4, 5, 6, 7"), and Neuro retries the force;
* **an unforced action** -- :data:`TAUNT_ACTION`, registered for the whole session,
  which Neuro may use whenever she likes; the text appears in a speech bubble;
* **shutdown requests** -- a graceful one finishes the current game, then answers
  ``shutdown/ready`` and asks the app to quit; an immediate one answers at once
  (a game of Connect Four has nothing to save).

Everything here runs on the game's main thread: the handlers inside
:meth:`PygameNeuro.pump <neuro_bridge.engines.pygame.PygameNeuro.pump>`, the
:class:`Opponent` methods from the game loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from neuro_bridge.component import (
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    ActionResult,
)
from neuro_bridge.protocol import Action

from .board import COLUMNS, Player

if TYPE_CHECKING:
    from neuro_bridge.engines.pygame import PygameNeuro

    from .game import Game

__all__ = ["DROP_ACTION", "TAUNT_ACTION", "TAUNT_MAX_LENGTH", "NeuroOpponent", "drop_action"]

#: The forced action's name.
DROP_ACTION: Final = "connect_four_drop"
#: The unforced action's name.
TAUNT_ACTION: Final = "connect_four_taunt"
#: Longest taunt shown, in characters.
TAUNT_MAX_LENGTH: Final = 100

_DROP_QUERY = "It is your turn. Drop a disc into one of the free columns."
_ENDINGS = {
    Player.HUMAN: "The person connected four and won this game of Connect Four.",
    Player.NEURO: "You connected four and won this game of Connect Four!",
    None: "The board is full: this game of Connect Four is a draw.",
}


def drop_action(free_columns: list[int]) -> Action:
    """Return the drop action, its schema listing *free_columns* (1-based)."""
    return Action(
        DROP_ACTION,
        f"Drop one of your yellow discs (O) into a column, numbered 1-{COLUMNS} from"
        " the left. It falls to the lowest free cell; four in a row wins.",
        {
            "type": "object",
            "properties": {"column": {"type": "integer", "enum": free_columns}},
            "required": ["column"],
        },
    )


TAUNT = Action(
    TAUNT_ACTION,
    "Say something short to the person you are playing Connect Four against;"
    " it appears in a speech bubble on the screen.",
    {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": TAUNT_MAX_LENGTH}},
        "required": ["message"],
    },
)


class NeuroOpponent:
    """Neuro plays ``O`` through a :class:`~neuro_bridge.engines.pygame.PygameNeuro`.

    Create it before :meth:`PygameNeuro.start
    <neuro_bridge.engines.pygame.PygameNeuro.start>` (or after; commands queue),
    give it to :class:`~neuro_connect_four.game.Game`, and let the app quit when
    :attr:`quit_requested` becomes true.

    Attributes:
        name: Shown in the status line and speech bubble.
        leaving: Neuro asked to stop after this game (graceful shutdown).
        quit_requested: ``shutdown/ready`` was sent; the app should close.

    """

    name = "Neuro"

    def __init__(self, neuro: PygameNeuro) -> None:
        self.neuro = neuro
        self.leaving = False
        self.quit_requested = False
        self._game: Game | None = None
        neuro.add_action(TAUNT, self._taunt)
        neuro.on(GRACEFUL_SHUTDOWN_EVENT, self._graceful_shutdown)
        neuro.on(IMMEDIATE_SHUTDOWN_EVENT, self._immediate_shutdown)

    # -- Opponent ---------------------------------------------------------------

    def game_started(self, game: Game) -> None:
        """Tell Neuro, quietly, that a new game begins."""
        self._game = game
        first = "You move" if game.first is Player.NEURO else "The person moves"
        self.neuro.send_context(
            "A new game of Connect Four starts. You play O (yellow discs), the person"
            f" plays X (red discs). {first} first.",
            silent=True,
        )

    def turn_started(self, game: Game) -> None:
        """Register the one-shot drop action and force it, the board as state."""
        self._game = game
        if self.neuro.is_registered(DROP_ACTION):  # left from an unfinished turn
            self.neuro.remove_action(DROP_ACTION)
        self.neuro.add_action(drop_action(game.board.legal_columns()), self._drop, one_shot=True)
        self.neuro.force(_DROP_QUERY, [DROP_ACTION], state=game.describe_for_opponent())

    def update(self, game: Game) -> None:
        """Nothing to do per frame: Neuro's moves arrive as actions."""

    def game_over(self, game: Game) -> None:
        """Tell Neuro how it ended (not silently), then leave if she asked to."""
        self.neuro.send_context(
            f"{_ENDINGS[game.winner]}\n{game.board.to_text()}",
            silent=False,
        )
        if self.leaving:
            self._ready()

    # -- handlers (main thread, inside pump) -------------------------------------

    def _drop(self, data: dict[str, Any]) -> ActionResult:
        if self._game is None:
            return ActionResult(False, "There is no game running.")
        ok, message = self._game.apply_opponent_move(data["column"])
        if ok:
            return ActionResult(True, message)
        # success=False: Neuro retries the force, and the reason helps her.
        return ActionResult(False, f"You cannot drop there: {message}.")

    def _taunt(self, data: dict[str, Any]) -> ActionResult:
        text = " ".join(str(data["message"]).split())[:TAUNT_MAX_LENGTH]
        if not text:
            return ActionResult(False, "The message was empty, so nothing was shown.")
        if self._game is not None:
            self._game.say(text)
        return ActionResult(True, "The person sees your message in a speech bubble.")

    # -- shutdown ---------------------------------------------------------------

    def _graceful_shutdown(self, wants_shutdown: object) -> None:
        self.leaving = bool(wants_shutdown)
        game = self._game
        if not self.leaving:
            if game is not None:
                game.say("Never mind, I'm staying!")
            return
        if game is None or game.is_over:
            self._ready()
        else:
            game.say("I have to go after this game.")

    def _immediate_shutdown(self, _data: object) -> None:
        self._ready()

    def _ready(self) -> None:
        if not self.quit_requested:
            self.quit_requested = True
            self.neuro.send_shutdown_ready()

"""The game controller: whose turn it is, what the status line says, taunts.

Pure Python, no pygame. :class:`Game` is what a front end (the pygame window in
``__main__``) and an opponent (a random local player, or Neuro through
neuro-bridge) both talk to:

* the person's clicks go to :meth:`Game.human_click`;
* the opponent's moves go to :meth:`Game.apply_opponent_move`, which checks them
  and answers ``(ok, message)`` with a message fit to send back to an AI;
* the window draws :meth:`Game.render_state` every frame.

The opponent is any object with the :class:`Opponent` methods; the game calls
:meth:`Opponent.game_started` when a board is set up,
:meth:`Opponent.turn_started` when the ``O`` side is to move and
:meth:`Opponent.game_over` at the end, and :meth:`Game.update` passes every frame
on to :meth:`Opponent.update`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .board import COLUMNS, Board, Cell, Player

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "DropAnimation",
    "Game",
    "Opponent",
    "RandomOpponent",
    "RenderState",
]

DEFAULT_TAUNT_SECONDS = 4.0
"""How long a taunt bubble stays on screen by default."""
DROP_SECONDS = 0.35
"""How long the drop animation of a disc lasts."""


@dataclass(frozen=True)
class DropAnimation:
    """A disc falling into place.

    The disc is already on the board at ``cell``; the renderer draws it at a
    height between the top of the board and its cell according to ``progress``
    (0.0 just released, 1.0 landed).
    """

    cell: Cell
    player: Player
    progress: float


@dataclass(frozen=True)
class RenderState:
    """Everything the renderer needs for one frame. No behaviour, no pygame."""

    board: Board
    status: str
    """The main line at the top, e.g. ``"Your turn"``."""
    turn: Player | None = None
    """Whose turn it is, shown as a disc next to the status; ``None`` once over."""
    hint: str | None = None
    """A smaller line under the status, e.g. ``"Click to play again"``."""
    taunt: str | None = None
    """What the opponent says, shown in a speech bubble."""
    speaker: str = "Neuro"
    """The name written in the speech bubble."""
    hover_column: int | None = None
    """The column under the mouse (1-based), previewed with a disc of ``turn``."""
    drop: DropAnimation | None = None
    """The disc currently falling, if any."""
    time: float = 0.0
    """Seconds from any fixed origin; drives small pulsing effects."""


class Opponent(Protocol):
    """The side that plays ``O``: a local AI, or Neuro through the bridge.

    All methods are called on the game's thread. An opponent answers a turn by
    calling :meth:`Game.apply_opponent_move`, at once or on a later frame.
    """

    name: str
    """Shown in the status line ("Neuro is thinking...") and the taunt bubble."""

    def game_started(self, game: Game) -> None:
        """React to a new, empty board (:attr:`Game.first` moves first)."""

    def turn_started(self, game: Game) -> None:
        """Start the opponent's turn (the person's move is already on the board)."""

    def update(self, game: Game) -> None:
        """Do per-frame work; :meth:`Game.update` calls this once per frame."""

    def game_over(self, game: Game) -> None:
        """React to the end of the game (see :attr:`Game.winner`); more may follow."""


class Game:
    """One match of Connect Four between the person (``X``) and an opponent (``O``).

    ``clock`` returns seconds (``time.monotonic`` by default; tests pass a fake).
    The opponent can be set later with :attr:`opponent` and :meth:`new_game`.
    """

    def __init__(
        self,
        opponent: Opponent | None = None,
        *,
        first: Player = Player.HUMAN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.opponent = opponent
        self._clock = clock
        self.board = Board()
        self.first = first
        self._taunt: str | None = None
        self._taunt_until = 0.0
        self._drop: tuple[Cell, Player, float] | None = None
        self.new_game(first)

    # -- state ------------------------------------------------------------------

    def now(self) -> float:
        """Return the current time of the game's clock, in seconds."""
        return self._clock()

    @property
    def opponent_name(self) -> str:
        """The opponent's display name ("Neuro" without an opponent)."""
        return self.opponent.name if self.opponent is not None else "Neuro"

    @property
    def turn(self) -> Player | None:
        """Whose move it is, or ``None`` once the game is over."""
        if self.board.is_over:
            return None
        return self.board.next_player(self.first)

    @property
    def is_over(self) -> bool:
        """Whether the game has ended (win or draw)."""
        return self.board.is_over

    @property
    def winner(self) -> Player | None:
        """The winning side, or ``None`` (game running, or a draw)."""
        return self.board.winner

    @property
    def status(self) -> str:
        """The status line: whose turn, or how the game ended."""
        winner = self.board.winner
        if winner is Player.HUMAN:
            return "You win!"
        if winner is Player.NEURO:
            return f"{self.opponent_name} wins!"
        if self.board.is_draw:
            return "It's a draw!"
        if self.turn is Player.HUMAN:
            return "Your turn"
        return f"{self.opponent_name} is thinking\N{HORIZONTAL ELLIPSIS}"

    @property
    def taunt(self) -> str | None:
        """What the opponent is saying right now, or ``None`` once it expired."""
        if self._taunt is not None and self._clock() < self._taunt_until:
            return self._taunt
        return None

    def say(self, text: str, seconds: float = DEFAULT_TAUNT_SECONDS) -> None:
        """Show ``text`` in the opponent's speech bubble for ``seconds``."""
        self._taunt = text.strip() or None
        self._taunt_until = self._clock() + seconds

    @property
    def is_animating(self) -> bool:
        """Whether a disc is still falling."""
        return self._drop is not None and self._clock() < self._drop[2] + DROP_SECONDS

    def describe_for_opponent(self) -> str:
        """Describe the position for the ``O`` side in words and an ASCII board."""
        board = self.board
        lines = [
            f"Connect Four. You play O, the person plays X. Columns are numbered "
            f"1-{COLUMNS} from left to right; a disc falls to the lowest free cell.",
            board.to_text(),
        ]
        last = board.last_move
        if last is not None:
            mover = board.at(*last)
            who = "The person" if mover is Player.HUMAN else "You"
            lines.append(f"{who} last dropped a disc in column {last.column}.")
        if self.winner is Player.HUMAN:
            lines.append("The person connected four and won.")
        elif self.winner is Player.NEURO:
            lines.append("You connected four and won!")
        elif board.is_draw:
            lines.append("The board is full: it is a draw.")
        else:
            free = ", ".join(str(c) for c in board.legal_columns())
            whose = "your" if self.turn is Player.NEURO else "the person's"
            lines.append(f"It is {whose} turn. Free columns: {free}.")
        return "\n".join(lines)

    # -- moves ------------------------------------------------------------------

    def human_click(self, column: int) -> tuple[bool, str]:
        """Play the person's disc in ``column`` (1-based); return ``(ok, message)``."""
        if self.turn is not Player.HUMAN:
            if self.is_over:
                return False, "the game is over"
            return False, f"wait for {self.opponent_name} to move"
        if self.is_animating:
            return False, "wait for the disc to land"
        return self._play(column, Player.HUMAN)

    def apply_opponent_move(self, column: object) -> tuple[bool, str]:
        """Play the opponent's disc in ``column`` (1-based, any value accepted).

        Returns ``(True, description)`` when the disc was dropped, or
        ``(False, reason)`` with a reason that tells an AI how to do better
        (for example ``"column 3 is full; free columns: 1, 2, 4, 5, 6, 7"``).
        Nothing changes when the move is refused.
        """
        if self.turn is not Player.NEURO:
            if self.is_over:
                return False, "the game is over"
            return False, "it is not your turn: wait for the person to move"
        return self._play(column, Player.NEURO)

    def _play(self, column: object, player: Player) -> tuple[bool, str]:
        problem = self.board.describe_invalid_move(column)
        if problem is not None:
            return False, problem
        assert isinstance(column, int)  # noqa: S101 - checked just above
        cell = self.board.drop(column, player)
        self._drop = (cell, player, self._clock())
        message = f"{player.symbol} dropped in column {cell.column}."
        if self.board.winner is not None:
            message += f" {self.status}"
        elif self.board.is_draw:
            message += " The board is full: it's a draw."
        self._after_move()
        return True, message

    def _after_move(self) -> None:
        if self.opponent is None:
            return
        if self.is_over:
            self.opponent.game_over(self)
        elif self.turn is Player.NEURO:
            self.opponent.turn_started(self)

    def new_game(self, first: Player | None = None) -> None:
        """Clear the board and start again; ``first`` defaults to the last choice."""
        if first is not None:
            self.first = first
        self.board = Board()
        self._drop = None
        if self.opponent is None:
            return
        self.opponent.game_started(self)
        if self.turn is Player.NEURO:
            self.opponent.turn_started(self)

    def update(self) -> None:
        """Advance time-based things; call once per frame."""
        if self.opponent is not None:
            self.opponent.update(self)

    # -- drawing ----------------------------------------------------------------

    def render_state(self, hover_column: int | None = None) -> RenderState:
        """Return what the renderer should draw now.

        ``hover_column`` is the column under the mouse; it is only previewed
        while it is the person's turn and that column is free.
        """
        now = self._clock()
        drop = None
        if self._drop is not None:
            cell, player, started = self._drop
            progress = (now - started) / DROP_SECONDS
            if progress < 1.0:
                drop = DropAnimation(cell, player, max(0.0, progress))
        human_turn = self.turn is Player.HUMAN
        if not (human_turn and self.board.is_legal(hover_column)):
            hover_column = None
        return RenderState(
            board=self.board,
            status=self.status,
            turn=self.turn,
            hint="Click to play again" if self.is_over else None,
            taunt=self.taunt,
            speaker=self.opponent_name,
            hover_column=hover_column,
            drop=drop,
            time=now,
        )


class RandomOpponent:
    """A stand-in for Neuro: waits a moment, then drops in a random free column.

    Sometimes says one of ``taunts`` to show off the speech bubble.
    """

    name = "Neuro"

    def __init__(
        self,
        *,
        delay: float = 0.8,
        taunts: Sequence[str] = (
            "Is that the best you can do?",
            "I have calculated every possible future. You lose in most of them.",
            "Heart heart heart.",
            "Filtered.",
            "Don't worry, I'm going easy on you. Probably.",
        ),
        rng: random.Random | None = None,
    ) -> None:
        self.delay = delay
        self.taunts = tuple(taunts)
        # Not cryptography: a plain PRNG is right for a game.
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._move_at: float | None = None

    def game_started(self, game: Game) -> None:
        """Forget any move planned for the previous game."""
        self._move_at = None

    def turn_started(self, game: Game) -> None:
        """Plan a move ``delay`` seconds from now."""
        self._move_at = game.now() + self.delay

    def update(self, game: Game) -> None:
        """Play the planned move once its time has come."""
        if self._move_at is None or game.now() < self._move_at:
            return
        self._move_at = None
        columns = game.board.legal_columns()
        if not columns or game.turn is not Player.NEURO:
            return
        game.apply_opponent_move(self._rng.choice(columns))
        if self.taunts and self._rng.random() < 0.4:
            game.say(self._rng.choice(self.taunts))

    def game_over(self, game: Game) -> None:
        """Gloat or sulk."""
        self._move_at = None
        if game.winner is Player.NEURO:
            game.say("Too easy. Again?")
        elif game.winner is Player.HUMAN:
            game.say("That was a warm-up. Again!")
        else:
            game.say("A draw? Fine. I let you have that one.")

"""A simple local player for the person's side, for unattended (headless) runs.

Pure Python, no pygame.  :func:`choose_column` wins when it can, blocks the
other side's immediate win, avoids moves that hand the other side a win on the
next move, and otherwise prefers the centre.  :class:`AutoPlayer` plays the
``X`` side of a :class:`~neuro_connect_four.game.Game` with it, one move per
``delay`` seconds, the way a person clicking would.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .board import COLUMNS, Board, Player

if TYPE_CHECKING:
    from .game import Game

__all__ = ["AutoPlayer", "choose_column"]


def _wins(board: Board, column: int, player: Player) -> bool:
    trial = board.copy()
    trial.drop(column, player)
    return trial.winner is player


def choose_column(board: Board, player: Player, rng: random.Random | None = None) -> int:
    """Return a good column (1-based) for *player* to drop a disc in.

    Raises:
        ValueError: No column is free (the game is over).

    """
    legal = board.legal_columns()
    if not legal:
        raise ValueError("no legal move: the game is over")
    rng = rng if rng is not None else random.Random()  # noqa: S311 - a game, not crypto
    for column in legal:
        if _wins(board, column, player):
            return column
    for column in legal:
        if _wins(board, column, player.other):
            return column

    def safe(column: int) -> bool:
        trial = board.copy()
        trial.drop(column, player)
        return not any(_wins(trial, reply, player.other) for reply in trial.legal_columns())

    candidates = [column for column in legal if safe(column)] or legal
    centre = (COLUMNS + 1) / 2
    # Prefer the centre, with a little randomness so games differ.
    return min(candidates, key=lambda c: abs(c - centre) + rng.random() * 1.5)


class AutoPlayer:
    """Plays the person's side (``X``) of a game by itself.

    Call :meth:`update` once per frame; it moves *delay* seconds (on the game's
    clock) after the person's turn began, once the last disc has landed.  With
    probability ``1 - skill`` a move is random instead of :func:`choose_column`'s.
    """

    def __init__(
        self, *, delay: float = 0.3, skill: float = 1.0, rng: random.Random | None = None
    ) -> None:
        self.delay = delay
        self.skill = skill
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._turn_seen_at: float | None = None
        self._moves_seen = -1

    def update(self, game: Game) -> None:
        """Move if it is the person's turn and the delay has passed."""
        if game.turn is not Player.HUMAN or game.is_animating:
            self._turn_seen_at = None
            return
        moves = len(game.board.moves)
        if self._turn_seen_at is None or moves != self._moves_seen:
            self._turn_seen_at = game.now()
            self._moves_seen = moves
        if game.now() - self._turn_seen_at >= self.delay:
            self._turn_seen_at = None
            if self._rng.random() < self.skill:
                column = choose_column(game.board, Player.HUMAN, self._rng)
            else:
                column = self._rng.choice(game.board.legal_columns())
            game.human_click(column)

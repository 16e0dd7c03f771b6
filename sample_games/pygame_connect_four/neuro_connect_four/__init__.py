"""Connect Four, a sample pygame-ce game for neuro-bridge.

:mod:`~neuro_connect_four.board` holds the rules (pure Python),
:mod:`~neuro_connect_four.game` the turn-taking controller and the opponent
interface (pure Python), :mod:`~neuro_connect_four.render` the pygame drawing.
Run ``python -m neuro_connect_four`` from the ``pygame_connect_four`` folder to
play against a random local opponent. Columns are 1-based (1..7) everywhere.

Importing this package does not import pygame; import ``render`` for that.
"""

from __future__ import annotations

from .board import COLUMNS, CONNECT, ROWS, Board, Cell, InvalidMoveError, Player
from .game import DropAnimation, Game, Opponent, RandomOpponent, RenderState

__all__ = [
    "COLUMNS",
    "CONNECT",
    "ROWS",
    "Board",
    "Cell",
    "DropAnimation",
    "Game",
    "InvalidMoveError",
    "Opponent",
    "Player",
    "RandomOpponent",
    "RenderState",
]

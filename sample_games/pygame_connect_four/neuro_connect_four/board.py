"""Connect Four rules: the board, legal moves, wins and draws.

Pure Python, no pygame: the game logic can be tested, and its state sent to an
AI, without a window.

Coordinates in the public API are **1-based**, because that is what a person (and
Neuro) reads on screen: columns are numbered 1..7 from left to right, rows 1..6
from the bottom up. A :class:`Cell` is ``(column, row)`` in those numbers.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "COLUMNS",
    "CONNECT",
    "ROWS",
    "Board",
    "Cell",
    "InvalidMoveError",
    "Player",
]

COLUMNS = 7
"""Number of columns; column numbers run from 1 to ``COLUMNS``."""
ROWS = 6
"""Number of rows; row numbers run from 1 (bottom) to ``ROWS`` (top)."""
CONNECT = 4
"""How many discs in a line win."""

# The four line directions as (column step, row step): horizontal, vertical,
# diagonal rising to the right, diagonal falling to the right.
_DIRECTIONS = ((1, 0), (0, 1), (1, 1), (1, -1))


class Player(enum.Enum):
    """The two sides. The value is the symbol used in :meth:`Board.to_text`."""

    HUMAN = "X"
    """The person at the keyboard (red discs)."""
    NEURO = "O"
    """Neuro-sama, or whichever opponent plays the second side (yellow discs)."""

    @property
    def symbol(self) -> str:
        """One-character symbol of this side in the text picture."""
        return self.value

    @property
    def other(self) -> Player:
        """The opposing side."""
        return Player.NEURO if self is Player.HUMAN else Player.HUMAN


class Cell(NamedTuple):
    """A board position, 1-based: ``column`` 1..7 from the left, ``row`` 1..6 up."""

    column: int
    row: int


class InvalidMoveError(ValueError):
    """A disc cannot be dropped there; the message says why, in plain words."""


class Board:
    """A Connect Four board (7 columns x 6 rows) that changes in place.

    Discs are dropped with :meth:`drop`; the board tracks the move history, the
    winner and the winning cells. Use :meth:`copy` for a snapshot. Columns and rows
    are 1-based everywhere (see the module docstring).
    """

    def __init__(self) -> None:
        # _grid[column index][row index], both 0-based, row 0 at the bottom.
        self._grid: list[list[Player | None]] = [[None] * ROWS for _ in range(COLUMNS)]
        self._moves: list[Cell] = []
        self._winner: Player | None = None
        self._winning_cells: tuple[Cell, ...] = ()

    @classmethod
    def from_moves(cls, columns: Iterable[int], first: Player = Player.HUMAN) -> Board:
        """Build a board by dropping discs in ``columns``, alternating sides.

        Raises :class:`InvalidMoveError` at the first move that is not legal.
        """
        board = cls()
        player = first
        for column in columns:
            board.drop(column, player)
            player = player.other
        return board

    def copy(self) -> Board:
        """Return an independent copy of this board."""
        clone = Board()
        clone._grid = [list(column) for column in self._grid]
        clone._moves = list(self._moves)
        clone._winner = self._winner
        clone._winning_cells = self._winning_cells
        return clone

    # -- reading the board ------------------------------------------------------

    def at(self, column: int, row: int) -> Player | None:
        """Return the disc at ``(column, row)`` (1-based), or ``None`` if empty.

        Raises :class:`IndexError` outside the board.
        """
        if not (1 <= column <= COLUMNS and 1 <= row <= ROWS):
            msg = f"({column}, {row}) is outside the {COLUMNS}x{ROWS} board"
            raise IndexError(msg)
        return self._grid[column - 1][row - 1]

    def discs(self) -> Iterator[tuple[Cell, Player]]:
        """Yield every disc on the board with its cell, column by column."""
        for column_index, column in enumerate(self._grid):
            for row_index, player in enumerate(column):
                if player is not None:
                    yield Cell(column_index + 1, row_index + 1), player

    def height(self, column: int) -> int:
        """Return how many discs column ``column`` (1-based) holds."""
        return sum(1 for cell in self._grid[column - 1] if cell is not None)

    def is_legal(self, column: object) -> bool:
        """Return whether a disc can be dropped in ``column`` now."""
        return self.describe_invalid_move(column) is None

    def legal_columns(self) -> list[int]:
        """Return the 1-based columns that can take a disc now (none once over)."""
        if self.is_over:
            return []
        return self._free_columns()

    def _free_columns(self) -> list[int]:
        return [c for c in range(1, COLUMNS + 1) if self.height(c) < ROWS]

    @property
    def moves(self) -> tuple[Cell, ...]:
        """Every disc dropped so far, in order, as the cell where it landed."""
        return tuple(self._moves)

    @property
    def last_move(self) -> Cell | None:
        """The cell of the most recent disc, or ``None`` on an empty board."""
        return self._moves[-1] if self._moves else None

    @property
    def winner(self) -> Player | None:
        """The side that connected four, or ``None``."""
        return self._winner

    @property
    def winning_cells(self) -> tuple[Cell, ...]:
        """The cells of the winning line(s), empty while nobody has won.

        Holds every cell of each line of four or more through the winning disc,
        so a move that completes five in a row, or two lines at once, lists them all.
        Sorted by column, then row.
        """
        return self._winning_cells

    @property
    def is_full(self) -> bool:
        """Whether every cell holds a disc."""
        return len(self._moves) == COLUMNS * ROWS

    @property
    def is_draw(self) -> bool:
        """Whether the board is full and nobody won."""
        return self.is_full and self._winner is None

    @property
    def is_over(self) -> bool:
        """Whether the game has ended, by a win or a draw."""
        return self._winner is not None or self.is_full

    def next_player(self, first: Player = Player.HUMAN) -> Player:
        """Return whose turn it is, assuming ``first`` made the first move."""
        return first if len(self._moves) % 2 == 0 else first.other

    # -- moves ------------------------------------------------------------------

    def describe_invalid_move(self, column: object) -> str | None:
        """Explain why a disc cannot be dropped in ``column``; ``None`` if it can.

        ``column`` may be any value (for example, straight from an AI's JSON), so
        the explanation covers wrong types as well as full columns and ended games.
        The messages are meant to be shown to the player as they are, e.g.
        ``"column 3 is full; free columns: 1, 2, 4, 5, 6, 7"``.
        """
        if isinstance(column, bool) or not isinstance(column, int):
            return f"column must be a whole number from 1 to {COLUMNS}, got {column!r}"
        if not 1 <= column <= COLUMNS:
            return f"column must be 1-{COLUMNS}, got {column}"
        if self._winner is not None:
            return f"the game is over: {self._winner.symbol} has already won"
        if self.is_full:
            return "the game is over: the board is full (a draw)"
        if self.height(column) >= ROWS:
            free = ", ".join(str(c) for c in self._free_columns())
            return f"column {column} is full; free columns: {free}"
        return None

    def drop(self, column: int, player: Player) -> Cell:
        """Drop a disc of ``player`` into ``column`` (1-based).

        Returns the cell where the disc landed. Raises :class:`InvalidMoveError`,
        with the text of :meth:`describe_invalid_move`, if the move is not legal.
        The board does not enforce turn order; that is the caller's job.
        """
        problem = self.describe_invalid_move(column)
        if problem is not None:
            raise InvalidMoveError(problem)
        row = self.height(column) + 1
        self._grid[column - 1][row - 1] = player
        cell = Cell(column, row)
        self._moves.append(cell)
        winning = self._lines_through(cell, player)
        if winning:
            self._winner = player
            self._winning_cells = winning
        return cell

    def _lines_through(self, cell: Cell, player: Player) -> tuple[Cell, ...]:
        """Return the cells of all lines of ``CONNECT`` or more through ``cell``."""
        found: set[Cell] = set()
        for dc, dr in _DIRECTIONS:
            line = [cell]
            for sign in (1, -1):
                column, row = cell.column + sign * dc, cell.row + sign * dr
                while (
                    1 <= column <= COLUMNS
                    and 1 <= row <= ROWS
                    and self._grid[column - 1][row - 1] is player
                ):
                    line.append(Cell(column, row))
                    column, row = column + sign * dc, row + sign * dr
            if len(line) >= CONNECT:
                found.update(line)
        return tuple(sorted(found))

    # -- text -------------------------------------------------------------------

    def to_text(self) -> str:
        """Return an ASCII picture of the board, top row first.

        ``X`` is the person, ``O`` is Neuro, ``.`` is empty; the column numbers
        (1-7) are printed above and below. For example::

             1 2 3 4 5 6 7
            |. . . . . . .|
            |. . . . . . .|
            |. . . . . . .|
            |. . . . . . .|
            |. . . O . . .|
            |. . X O X . .|
             1 2 3 4 5 6 7
        """
        numbers = " " + " ".join(str(c) for c in range(1, COLUMNS + 1))
        lines = [numbers]
        for row_index in reversed(range(ROWS)):
            symbols = (_symbol(column[row_index]) for column in self._grid)
            lines.append("|" + " ".join(symbols) + "|")
        lines.append(numbers)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        columns = "".join(str(cell.column) for cell in self._moves)
        return f"<Board moves={columns!r} winner={self._winner}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Board):
            return NotImplemented
        return self._grid == other._grid


def _symbol(player: Player | None) -> str:
    return "." if player is None else player.symbol

"""The pygame Connect Four sample: rules, game controller and drawing."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame
from neuro_connect_four import (  # type: ignore[import-not-found, unused-ignore]
    Board,
    Cell,
    Game,
    InvalidMoveError,
    Player,
    RandomOpponent,
)
from neuro_connect_four.render import (  # type: ignore[import-not-found, unused-ignore]
    DISC_COLOURS,
    Renderer,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

HUMAN, NEURO = Player.HUMAN, Player.NEURO
# A full board without four in a row, filled column by column.
DRAW_MOVES = [int(c) for c in "111111222222333333544444455555666666777777"]


def play(board: Board, moves: str, player: Player) -> None:
    """Drop discs of one side only, into the columns spelled by ``moves``."""
    for column in moves:
        board.drop(int(column), player)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- board ----------------------------------------------------------------------


def test_empty_board() -> None:
    board = Board()
    assert board.legal_columns() == [1, 2, 3, 4, 5, 6, 7]
    assert board.winner is None
    assert board.winning_cells == ()
    assert not board.is_over
    assert board.last_move is None
    assert board.to_text() == "\n".join(
        [" 1 2 3 4 5 6 7"] + ["|. . . . . . .|"] * 6 + [" 1 2 3 4 5 6 7"]
    )


def test_discs_stack_from_the_bottom() -> None:
    board = Board()
    assert board.drop(3, HUMAN) == Cell(3, 1)
    assert board.drop(3, NEURO) == Cell(3, 2)
    assert board.drop(7, HUMAN) == Cell(7, 1)
    assert board.at(3, 1) is HUMAN
    assert board.at(3, 2) is NEURO
    assert board.at(3, 3) is None
    assert board.height(3) == 2
    assert board.moves == (Cell(3, 1), Cell(3, 2), Cell(7, 1))
    assert board.last_move == Cell(7, 1)
    assert sorted(board.discs()) == [
        (Cell(3, 1), HUMAN),
        (Cell(3, 2), NEURO),
        (Cell(7, 1), HUMAN),
    ]
    with pytest.raises(IndexError):
        board.at(8, 1)


def test_to_text_shows_x_and_o() -> None:
    board = Board.from_moves([4, 4, 3, 5, 4])
    assert board.to_text() == (
        " 1 2 3 4 5 6 7\n"
        "|. . . . . . .|\n"
        "|. . . . . . .|\n"
        "|. . . . . . .|\n"
        "|. . . X . . .|\n"
        "|. . . O . . .|\n"
        "|. . X X O . .|\n"
        " 1 2 3 4 5 6 7"
    )
    assert str(board) == board.to_text()


@pytest.mark.parametrize("start", [1, 2, 3, 4])
@pytest.mark.parametrize("row", [1, 3, 6])
def test_horizontal_win(start: int, row: int) -> None:
    board = Board()
    # Raise every column to ``row - 1`` with alternating discs that never connect.
    for column in range(1, 8):
        for height in range(1, row):
            board.drop(column, HUMAN if (height + (column - 1) // 2) % 2 else NEURO)
    assert not board.winning_cells
    for column in range(start, start + 3):
        board.drop(column, HUMAN)
        assert not board.winning_cells
    board.drop(start + 3, HUMAN)
    assert board.winner is HUMAN
    assert board.winning_cells == tuple(Cell(start + i, row) for i in range(4))
    assert board.is_over
    assert not board.is_draw


@pytest.mark.parametrize("column", [1, 4, 7])
def test_vertical_win(column: int) -> None:
    board = Board()
    board.drop(column, HUMAN)
    play(board, str(column) * 3, NEURO)
    assert not board.winning_cells
    board.drop(column, NEURO)
    assert board.winner is NEURO
    assert board.winning_cells == tuple(Cell(column, r) for r in range(2, 6))


def test_diagonal_rising_win() -> None:
    # X at (1,1) (2,2) (3,3) (4,4), filled in a normal alternating game.
    board = Board.from_moves([1, 2, 2, 3, 3, 4, 3, 4, 4, 6, 4])
    assert board.winner is HUMAN
    assert board.winning_cells == (Cell(1, 1), Cell(2, 2), Cell(3, 3), Cell(4, 4))


def test_diagonal_falling_win() -> None:
    board = Board()
    play(board, "444", HUMAN)
    play(board, "55", HUMAN)
    play(board, "6", HUMAN)
    for column in "765":
        board.drop(int(column), NEURO)
        assert not board.winning_cells
    board.drop(4, NEURO)  # O on (7,1) (6,2) (5,3) (4,4)
    assert board.winner is NEURO
    assert board.winning_cells == (Cell(4, 4), Cell(5, 3), Cell(6, 2), Cell(7, 1))


def test_filling_a_gap_makes_five() -> None:
    board = Board()
    play(board, "1245", HUMAN)
    assert not board.winning_cells
    board.drop(3, HUMAN)
    assert board.winner is HUMAN
    assert board.winning_cells == tuple(Cell(c, 1) for c in range(1, 6))


def test_two_lines_at_once() -> None:
    board = Board()
    play(board, "111222444", NEURO)
    play(board, "333", HUMAN)
    play(board, "124", HUMAN)  # row 4: X X . X
    assert not board.winning_cells
    board.drop(3, HUMAN)  # (3, 4) completes row 4 and column 3
    assert board.winner is HUMAN
    assert board.winning_cells == (
        Cell(1, 4),
        Cell(2, 4),
        Cell(3, 1),
        Cell(3, 2),
        Cell(3, 3),
        Cell(3, 4),
        Cell(4, 4),
    )


def test_three_is_not_enough_and_lines_do_not_wrap() -> None:
    board = Board()
    play(board, "567", HUMAN)  # three at the right edge
    play(board, "1", HUMAN)  # column 1 is not next to column 7
    assert board.winner is None
    play(board, "111", NEURO)
    play(board, "2", HUMAN)
    assert board.winner is None


def test_draw() -> None:
    board = Board.from_moves(DRAW_MOVES)
    assert board.is_full
    assert board.is_draw
    assert board.is_over
    assert board.winner is None
    assert board.legal_columns() == []
    assert board.describe_invalid_move(1) == ("the game is over: the board is full (a draw)")


def test_full_column() -> None:
    board = Board.from_moves([3] * 6)
    assert board.legal_columns() == [1, 2, 4, 5, 6, 7]
    message = "column 3 is full; free columns: 1, 2, 4, 5, 6, 7"
    assert board.describe_invalid_move(3) == message
    assert not board.is_legal(3)
    with pytest.raises(InvalidMoveError, match=message):
        board.drop(3, HUMAN)
    assert board.height(3) == 6


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (0, "column must be 1-7, got 0"),
        (8, "column must be 1-7, got 8"),
        (-3, "column must be 1-7, got -3"),
        ("4", "column must be a whole number from 1 to 7, got '4'"),
        (4.0, "column must be a whole number from 1 to 7, got 4.0"),
        (None, "column must be a whole number from 1 to 7, got None"),
        (True, "column must be a whole number from 1 to 7, got True"),
    ],
)
def test_invalid_columns(column: object, message: str) -> None:
    board = Board()
    assert board.describe_invalid_move(column) == message
    assert not board.is_legal(column)
    with pytest.raises(InvalidMoveError) as info:
        board.drop(column, HUMAN)  # type: ignore[arg-type, unused-ignore]
    assert str(info.value) == message
    assert board.moves == ()


def test_no_moves_after_a_win() -> None:
    board = Board()
    play(board, "1111", HUMAN)
    assert board.legal_columns() == []
    assert board.describe_invalid_move(2) == "the game is over: X has already won"


def test_copy_is_independent() -> None:
    board = Board.from_moves([4, 5])
    clone = board.copy()
    assert clone == board
    clone.drop(1, HUMAN)
    assert clone != board
    assert board.moves == (Cell(4, 1), Cell(5, 1))


def test_random_games_end_properly() -> None:
    rng = random.Random(7)
    for _ in range(200):
        board = Board()
        player = HUMAN
        while not board.is_over:
            board.drop(rng.choice(board.legal_columns()), player)
            player = player.other
        if board.winner is not None:
            assert len(board.winning_cells) >= 4
            assert board.last_move in board.winning_cells
            assert all(board.at(*cell) is board.winner for cell in board.winning_cells)
        else:
            assert board.is_draw


# -- game controller ------------------------------------------------------------


def test_game_turns_and_status() -> None:
    clock = FakeClock()
    game = Game(clock=clock)
    assert game.turn is HUMAN
    assert game.status == "Your turn"
    assert game.human_click(4) == (True, "X dropped in column 4.")
    assert game.turn is NEURO
    assert game.status == "Neuro is thinking\N{HORIZONTAL ELLIPSIS}"
    assert game.human_click(5) == (False, "wait for Neuro to move")
    assert game.apply_opponent_move(9) == (False, "column must be 1-7, got 9")
    assert game.apply_opponent_move("4") == (
        False,
        "column must be a whole number from 1 to 7, got '4'",
    )
    assert game.board.moves == (Cell(4, 1),)
    assert game.apply_opponent_move(4) == (True, "O dropped in column 4.")
    assert game.apply_opponent_move(3) == (
        False,
        "it is not your turn: wait for the person to move",
    )
    # Neuro's disc is still falling just after its move.
    assert game.human_click(3) == (False, "wait for the disc to land")
    clock.now += 1
    assert game.human_click(3)[0]


def test_game_win_and_new_game() -> None:
    clock = FakeClock()
    game = Game(clock=clock, first=NEURO)
    assert game.status == "Neuro is thinking\N{HORIZONTAL ELLIPSIS}"
    for column in [1, 2, 1, 2, 1, 2]:
        ok, _ = game.apply_opponent_move(column) if game.turn is NEURO else game.human_click(column)
        assert ok
        clock.now += 1
    ok, message = game.apply_opponent_move(1)
    assert ok
    assert message == "O dropped in column 1. Neuro wins!"
    assert (game.is_over, game.winner, game.turn) == (True, NEURO, None)
    assert game.status == "Neuro wins!"
    assert game.human_click(3) == (False, "the game is over")
    assert game.apply_opponent_move(3) == (False, "the game is over")
    game.new_game(HUMAN)
    assert not game.is_over
    assert game.board.moves == ()
    assert game.status == "Your turn"


def test_game_draw_status() -> None:
    clock = FakeClock()
    game = Game(clock=clock)
    messages = []
    for column in DRAW_MOVES:
        clock.now += 1
        move = game.human_click if game.turn is HUMAN else game.apply_opponent_move
        ok, message = move(column)
        assert ok
        messages.append(message)
    assert messages[-1].endswith("The board is full: it's a draw.")
    assert game.status == "It's a draw!"
    assert game.winner is None


def test_taunt_expires() -> None:
    clock = FakeClock()
    game = Game(clock=clock)
    assert game.render_state().taunt is None
    game.say("  Is that all?  ", seconds=2)
    assert game.taunt == "Is that all?"
    clock.now += 1.9
    assert game.render_state().taunt == "Is that all?"
    clock.now += 0.2
    assert game.taunt is None


def test_describe_for_opponent() -> None:
    game = Game(clock=FakeClock())
    game.human_click(4)
    text = game.describe_for_opponent()
    assert game.board.to_text() in text
    assert "You play O" in text
    assert "The person last dropped a disc in column 4." in text
    assert "It is your turn. Free columns: 1, 2, 3, 4, 5, 6, 7." in text


def test_render_state() -> None:
    clock = FakeClock()
    game = Game(clock=clock)
    state = game.render_state(hover_column=2)
    assert state.hover_column == 2
    assert state.turn is HUMAN
    assert state.drop is None
    game.human_click(2)
    clock.now += 0.1
    state = game.render_state(hover_column=2)
    assert state.hover_column is None  # not the person's turn
    assert state.drop is not None
    assert state.drop.cell == Cell(2, 1)
    assert 0.0 < state.drop.progress < 1.0
    clock.now += 1
    assert game.render_state().drop is None
    assert game.render_state(hover_column=99).hover_column is None


def test_random_opponent_plays_after_a_delay() -> None:
    clock = FakeClock()
    opponent = RandomOpponent(delay=0.5, rng=random.Random(3))
    game = Game(opponent, clock=clock)
    game.human_click(4)
    game.update()
    assert game.turn is NEURO
    clock.now += 0.6
    game.update()
    assert game.turn is HUMAN
    assert len(game.board.moves) == 2
    # Play a whole game: the opponent reacts to every move and to the end.
    rng = random.Random(5)
    while not game.is_over:
        clock.now += 1
        if game.turn is HUMAN:
            game.human_click(rng.choice(game.board.legal_columns()))
        game.update()
    assert game.taunt is not None


def test_opponent_may_start() -> None:
    clock = FakeClock()
    game = Game(RandomOpponent(delay=0.1), clock=clock, first=NEURO)
    clock.now += 0.2
    game.update()
    assert len(game.board.moves) == 1
    assert game.turn is HUMAN


# -- drawing --------------------------------------------------------------------


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    try:
        yield
    finally:
        pygame.display.quit()


def _near(colour: pygame.Color, expected: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected))


def _mid_game() -> tuple[Game, FakeClock]:
    clock = FakeClock()
    game = Game(clock=clock)
    for column in [4, 4, 3, 5, 3, 3]:
        move = game.human_click if game.turn is HUMAN else game.apply_opponent_move
        assert move(column)[0]
        clock.now += 1
    return game, clock


@pytest.mark.usefixtures("display")
def test_render_mid_game(tmp_path: Path) -> None:
    screen = pygame.display.set_mode((700, 700))
    renderer = Renderer(screen)
    game, _ = _mid_game()
    game.say("Is that the best you can do?")
    renderer.draw(game.render_state(hover_column=6))
    layout = renderer.layout

    def pixel(column: int, row: int, dx: int = 0, dy: int = 0) -> pygame.Color:
        x, y = layout.cell_center(column, row)
        return screen.get_at((x + dx, y + dy))

    red, yellow = DISC_COLOURS[HUMAN], DISC_COLOURS[NEURO]
    # Sample right of the centre, away from the highlight and the inner ring.
    offset = layout.disc_radius * 4 // 5
    assert _near(pixel(4, 1, offset), red, 40)
    assert _near(pixel(3, 2, offset), red, 40)
    assert _near(pixel(4, 2, offset), yellow, 40)
    assert _near(pixel(5, 1, offset), yellow, 40)
    # An empty hole shows the dark background, the frame between holes is blue.
    empty = pixel(1, 3)
    assert max(empty[:3]) < 110
    frame = pixel(1, 3, layout.cell // 2, 0)
    assert frame.b > 150
    assert frame.b > frame.r + 80
    # The preview disc hangs above column 6, the taunt bubble is near-white.
    x6, _ = layout.cell_center(6, 1)
    assert _near(screen.get_at((x6 + offset, layout.hover_y)), red, 60)
    path = tmp_path / "connect_four.png"
    pygame.image.save(screen, str(path))
    loaded = pygame.image.load(str(path))
    assert loaded.get_size() == (700, 700)


@pytest.mark.usefixtures("display")
def test_render_bubble_and_win_highlight() -> None:
    surface = pygame.Surface((700, 700))
    renderer = Renderer(surface)
    clock = FakeClock()
    game = Game(clock=clock)
    for column in [1, 2, 2, 3, 3, 4, 3, 4, 4, 6, 4]:
        move = game.human_click if game.turn is HUMAN else game.apply_opponent_move
        assert move(column)[0]
        clock.now += 1
    renderer.draw(game.render_state())
    before = surface.copy()
    game.say("That was a warm-up. Again!")
    renderer.draw(game.render_state())
    layout = renderer.layout
    bubble_y = layout.bubble_top + layout.cell // 4
    changed = [
        x for x in range(0, 700, 5) if surface.get_at((x, bubble_y)) != before.get_at((x, bubble_y))
    ]
    assert changed
    assert any(min(surface.get_at((x, bubble_y))[:3]) > 200 for x in changed)
    # The winning discs get a white ring just outside the disc.
    for cell in game.board.winning_cells:
        x, y = layout.cell_center(*cell)
        assert min(surface.get_at((x + layout.disc_radius + 1, y))[:3]) > 170


@pytest.mark.usefixtures("display")
def test_render_drop_animation() -> None:
    surface = pygame.Surface((700, 700))
    renderer = Renderer(surface)
    clock = FakeClock()
    game = Game(clock=clock)
    game.human_click(2)
    renderer.draw(game.render_state())
    x, y = renderer.layout.cell_center(2, 1)
    assert max(surface.get_at((x, y))[:3]) < 110  # not there yet
    clock.now += 5
    renderer.draw(game.render_state())
    assert surface.get_at((x, y)).r > 150


@pytest.mark.usefixtures("display")
@pytest.mark.parametrize("size", [(700, 700), (400, 520), (1000, 640)])
def test_column_hit_testing(size: tuple[int, int]) -> None:
    renderer = Renderer(pygame.Surface(size))
    layout = renderer.layout
    for column in range(1, 8):
        x, _ = layout.cell_center(column, 1)
        assert renderer.column_at(x) == column
        assert renderer.column_at(x - layout.cell // 2 + 1) == column
    assert renderer.column_at(layout.left - 1) is None
    assert renderer.column_at(layout.left + 7 * layout.cell) is None
    assert layout.board_rect.bottom <= size[1]
    assert layout.hover_y - layout.disc_radius > 0
    renderer.draw(Game(clock=FakeClock()).render_state(hover_column=1))

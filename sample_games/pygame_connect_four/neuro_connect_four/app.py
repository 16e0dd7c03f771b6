"""The game loop: a window (or the dummy video driver), the person, the opponent.

:func:`run` is what ``python -m neuro_connect_four`` and ``neuro-bridge demo``
call.  It plays against Neuro through a
:class:`~neuro_bridge.engines.pygame.PygameNeuro` when given one, else against
the local :class:`~neuro_connect_four.game.RandomOpponent`.  The person plays
with the mouse (or keys 1-7); in unattended runs an
:class:`~neuro_connect_four.autoplay.AutoPlayer` takes the person's side.

The loop is the pattern a pygame game uses with neuro-bridge: handle events
(passing each to :meth:`~neuro_bridge.engines.pygame.PygameNeuro.handle_event`),
update, draw, then :meth:`~neuro_bridge.engines.pygame.PygameNeuro.wait_frame`
instead of ``clock.tick``, and :meth:`~neuro_bridge.engines.pygame.PygameNeuro.shutdown`
on the way out.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from typing import TYPE_CHECKING, Callable

import pygame

from .autoplay import AutoPlayer
from .board import COLUMNS, Player
from .game import Game, Opponent, RandomOpponent
from .render import Renderer

if TYPE_CHECKING:
    from collections.abc import Awaitable

    import trio

    from neuro_bridge.engines.pygame import PygameNeuro

__all__ = ["FPS", "GAME_TITLE", "WINDOW_SIZE", "MoveLog", "Session", "run"]

logger = logging.getLogger(__name__)

GAME_TITLE = "Connect Four"
"""The title the game announces to Neuro."""
WINDOW_SIZE = (700, 700)
FPS = 60

MoveLog = Callable[[str], None]
"""Receives one line per move, taunt and result (the demo prints them)."""


@dataclasses.dataclass
class Session:
    """What :func:`run` played."""

    game: Game
    """The game object (its board shows the last game)."""
    winners: list[Player | None] = dataclasses.field(default_factory=list)
    """The winner of each finished game, in order (``None`` for a draw)."""
    quit_by_neuro: bool = False
    """Neuro asked to shut down and the game answered ``shutdown/ready``."""


def _describe_move(game: Game, index: int, human: str) -> str:
    cell = game.board.moves[index]
    player = game.board.at(*cell)
    who = f"{human} (X)" if player is Player.HUMAN else f"{game.opponent_name} (O)"
    return f"{index + 1:2}. {who} drops in column {cell.column}"


def _describe_end(game: Game) -> str:
    if game.winner is Player.HUMAN:
        return "X wins"
    if game.winner is Player.NEURO:
        return f"{game.opponent_name} (O) wins"
    return "draw"


def run(
    *,
    neuro: PygameNeuro | None = None,
    before_connect: Callable[[trio.Nursery], Awaitable[str | None]] | None = None,
    headless: bool = False,
    auto_human: bool = False,
    auto_skill: float = 0.5,
    games: int | None = None,
    speed: float = 1.0,
    seed: int | None = None,
    log: MoveLog | None = None,
    screenshot: str | None = None,
    time_limit: float | None = None,
) -> Session:
    """Play Connect Four until the window closes (or *games* games have ended).

    Args:
        neuro: Play against Neuro through this bridge (it is started and shut
            down here); ``None`` plays against a local random opponent.
        before_connect: Passed to :meth:`PygameNeuro.start
            <neuro_bridge.engines.pygame.PygameNeuro.start>` (the demo starts the
            stand-in Neuro with it).
        headless: Use SDL's dummy video driver (no window).
        auto_human: Let an :class:`~neuro_connect_four.autoplay.AutoPlayer` play
            the person's side.
        auto_skill: How often that player moves well (0-1) rather than at random.
        games: Stop after this many finished games (``None``: until closed).
        speed: Game clock speed; above 1 makes animations and delays shorter.
        seed: Seed for the local players' random choices.
        log: Gets a line for each move, taunt and game end.
        screenshot: Save the final frame to this PNG path.
        time_limit: Stop after this many seconds (a safety net for unattended runs).

    Returns:
        What was played.

    """
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    try:
        pygame.display.set_caption("Connect Four \N{EM DASH} neuro-bridge sample")
        screen = pygame.display.set_mode(WINDOW_SIZE)
        return _loop(
            screen,
            neuro=neuro,
            before_connect=before_connect,
            auto_human=auto_human,
            auto_skill=auto_skill,
            games=games,
            speed=speed,
            seed=seed,
            log=log,
            screenshot=screenshot,
            time_limit=time_limit,
        )
    finally:
        if neuro is not None:
            neuro.shutdown()
        pygame.quit()


def _loop(
    screen: pygame.Surface,
    *,
    neuro: PygameNeuro | None,
    before_connect: Callable[[trio.Nursery], Awaitable[str | None]] | None,
    auto_human: bool,
    auto_skill: float,
    games: int | None,
    speed: float,
    seed: int | None,
    log: MoveLog | None,
    screenshot: str | None,
    time_limit: float | None,
) -> Session:
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - a game, not crypto

    def clock() -> float:
        return (time.monotonic() - started) * speed

    opponent: Opponent
    leaving: Callable[[], bool]
    if neuro is not None:
        from .neuro import NeuroOpponent  # imports neuro-bridge only when used

        neuro_opponent = NeuroOpponent(neuro)
        opponent = neuro_opponent
        leaving = lambda: neuro_opponent.quit_requested  # noqa: E731
    else:
        opponent = RandomOpponent(rng=random.Random(rng.random()))  # noqa: S311
        leaving = lambda: False  # noqa: E731
    renderer = Renderer(screen)
    game = Game(opponent, clock=clock)
    session = Session(game)
    human_rng = random.Random(rng.random())  # noqa: S311
    human = AutoPlayer(skill=auto_skill, rng=human_rng) if auto_human else None
    if neuro is not None:
        neuro.start(before_connect=before_connect)
    fallback_clock = pygame.time.Clock()
    hover: int | None = None
    logged_moves = 0
    last_taunt: str | None = None
    running = True
    while running:
        # -- events
        for event in pygame.event.get():
            if neuro is not None and neuro.handle_event(event):
                continue
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
            ):
                running = False
            elif event.type == pygame.MOUSEMOTION:
                hover = renderer.column_at(event.pos[0])
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if game.is_over and not leaving():
                    game.new_game(game.first.other)
                    logged_moves = 0
                elif not game.is_over:
                    column = renderer.column_at(event.pos[0])
                    if column is not None:
                        game.human_click(column)
            elif event.type == pygame.KEYDOWN and event.unicode in {
                str(c) for c in range(1, COLUMNS + 1)
            }:
                game.human_click(int(event.unicode))
        # -- update
        if human is not None:
            human.update(game)
        game.update()
        # -- the log
        while logged_moves < len(game.board.moves):
            if log is not None:
                log(_describe_move(game, logged_moves, "computer" if auto_human else "you"))
            logged_moves += 1
            if game.is_over and logged_moves == len(game.board.moves):
                session.winners.append(game.winner)
                if log is not None:
                    log(f"Game {len(session.winners)} over: {_describe_end(game)}.")
        taunt = game.taunt
        if taunt != last_taunt and taunt is not None and log is not None:
            log(f"    {game.opponent_name} says: {taunt}")
        last_taunt = taunt
        # -- draw
        state = game.render_state(hover)
        if neuro is not None and not neuro.connected:
            waiting = "Waiting for Neuro to connect\N{HORIZONTAL ELLIPSIS}"
            state = dataclasses.replace(state, hint=waiting)
        renderer.draw(state)
        pygame.display.flip()
        # -- when to stop
        if (
            (games is not None and len(session.winners) >= games and not game.is_animating)
            or (leaving() and not game.is_animating)
            or (time_limit is not None and time.monotonic() - started > time_limit)
        ):
            running = False
        elif human is not None and game.is_over and not game.is_animating:
            game.new_game(game.first.other)  # unattended: play on (up to *games*)
            logged_moves = 0
        # -- wait for the next frame, serving Neuro meanwhile
        if neuro is not None:
            neuro.wait_frame(FPS)
        else:
            fallback_clock.tick(FPS)
    if screenshot is not None:
        renderer.draw(game.render_state(None))  # the settled board, no hover disc
        pygame.image.save(screen, screenshot)
    session.quit_by_neuro = leaving()
    return session

"""Play Connect Four in a window against a random local opponent.

Run from the ``sample_games/pygame_connect_four`` folder::

    python -m neuro_connect_four

Click a column (or press 1-7) to drop a red disc; Escape quits. After a game,
click to play again; the side that starts alternates.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # after the variable above: ruff allows it

from .board import COLUMNS
from .game import Game, RandomOpponent
from .render import Renderer

WINDOW_SIZE = (700, 700)
FPS = 60


def main() -> None:
    """Open the window and run the game loop until the window is closed."""
    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption("Connect Four \N{EM DASH} neuro-bridge sample")
    screen = pygame.display.set_mode(WINDOW_SIZE)
    renderer = Renderer(screen)
    game = Game(RandomOpponent())
    clock = pygame.time.Clock()
    hover: int | None = None
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
            ):
                running = False
            elif event.type == pygame.MOUSEMOTION:
                hover = renderer.column_at(event.pos[0])
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if game.is_over:
                    game.new_game(game.first.other)
                else:
                    column = renderer.column_at(event.pos[0])
                    if column is not None:
                        game.human_click(column)
            elif event.type == pygame.KEYDOWN and event.unicode in {
                str(c) for c in range(1, COLUMNS + 1)
            }:
                game.human_click(int(event.unicode))
        game.update()
        renderer.draw(game.render_state(hover))
        pygame.display.flip()
        clock.tick(FPS)
    pygame.quit()


if __name__ == "__main__":
    main()

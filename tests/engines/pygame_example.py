"""Paint Pot: Neuro picks a colour and the window is painted with it."""

from __future__ import annotations

from typing import Any

import pygame

from neuro_bridge.engines.pygame import PygameNeuro

COLOURS = ["red", "green", "blue"]


def main() -> None:
    pygame.init()
    screen = pygame.display.set_mode((320, 240))
    neuro = PygameNeuro("Paint Pot")  # connects to $NEURO_SDK_WS_URL
    colour = pygame.Color("black")

    @neuro.action(
        "paint_pot_fill",
        "Fill the screen with a colour.",
        {"type": "object", "properties": {"colour": {"enum": COLOURS}}, "required": ["colour"]},
    )
    def fill(data: dict[str, Any]) -> str:  # runs on this thread, between frames
        nonlocal colour
        colour = pygame.Color(data["colour"])
        return f"The screen is {data['colour']} now."

    neuro.start()
    neuro.send_context("A blank screen is waiting for paint.")
    neuro.force("Pick a colour for the screen.", ["paint_pot_fill"])
    running = True
    while running:
        for event in pygame.event.get():
            running = running and event.type != pygame.QUIT
        screen.fill(colour)
        pygame.display.flip()
        neuro.wait_frame(60)  # instead of clock.tick(60): Neuro is served meanwhile
    neuro.shutdown()
    pygame.quit()


if __name__ == "__main__":
    main()

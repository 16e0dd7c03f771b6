"""Quiz Night: one action window per question, answered by Neuro."""

from __future__ import annotations

from typing import Any

import pygame

from neuro_bridge.engines.pygame import PygameNeuro
from neuro_bridge.game import WindowEnd

QUESTIONS = [
    ("What colour is a clear daytime sky?", ["blue", "green", "purple"]),
    ("How many legs does a spider have?", ["six", "eight", "ten"]),
]


def main(think_time: float = 2.0, answer_time: float = 30.0) -> list[str]:
    pygame.init()
    screen = pygame.display.set_mode((320, 240))
    neuro = PygameNeuro("Quiz Night")  # connects to $NEURO_SDK_WS_URL
    answers: list[str] = []

    def ask(number: int) -> None:
        question, choices = QUESTIONS[number]
        window = neuro.action_window(on_end=lambda why: next_question(number, why))

        @window.action(
            "quiz_night_answer",
            "Answer the question on screen.",
            {"type": "object", "properties": {"answer": {"enum": choices}}, "required": ["answer"]},
        )
        def answer(data: dict[str, Any]) -> str:  # the first answer ends the window
            answers.append(data["answer"])
            return f"You answered {data['answer']}."

        window.set_context(f"Question {number + 1}: {question}", silent=False)
        # Let her answer on her own for a while, then ask her directly.
        window.set_force(question, state="Choices: " + ", ".join(choices), after=think_time)
        window.set_end(answer_time)  # nobody waits forever: the question passes
        window.open()

    def next_question(number: int, why: WindowEnd) -> None:
        if why is WindowEnd.TIMEOUT:
            answers.append("(no answer)")
        if number + 1 < len(QUESTIONS):
            ask(number + 1)
        else:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    neuro.start()
    ask(0)
    running = True
    while running:
        for event in pygame.event.get():
            running = running and event.type != pygame.QUIT
        screen.fill("navy")
        pygame.display.flip()
        neuro.wait_frame(60)  # serves Neuro, and runs the windows' clocks
    neuro.shutdown()
    pygame.quit()
    return answers


if __name__ == "__main__":
    main()

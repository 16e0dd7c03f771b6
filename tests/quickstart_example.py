"""The quick-start example of the docs (``docs/quickstart.rst`` includes it).

``tests/test_docs_examples.py`` runs it against a real local server.
"""

from __future__ import annotations

from typing import Any

# example-start
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

PICK = Action(
    "guess_number_pick",
    "Guess the secret number.",
    {
        "type": "object",
        "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 10}},
        "required": ["number"],
    },
)


async def play_guessing_game(url: str, secret: int) -> list[int]:
    guesses: list[int] = []
    solved = trio.Event()

    def pick(data: dict[str, Any]) -> tuple[bool, str]:
        guesses.append(data["number"])
        if data["number"] == secret:
            solved.set()
            return True, "Correct!"
        return True, "Higher." if data["number"] < secret else "Lower."

    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        neuro = TrioNeuroAPIComponent("neuro", "Guess the Number")
        manager.add_component(neuro)
        await neuro.register_action(PICK, pick)
        await manager.raise_event(Event("connect", url))
        await neuro.wait_for_websocket()
        await neuro.send_context("I am thinking of a number from 1 to 10.", silent=False)
        while not solved.is_set():
            await neuro.send_force_action(None, "Guess the number.", ["guess_number_pick"])
            while neuro.pending_force is not None:  # until her guess is answered
                await trio.sleep(0.01)
        await neuro.stop()
    return guesses


# example-end

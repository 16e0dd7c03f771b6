"""Guess the Number: Neuro has five guesses to find a number from 1 to 10."""

from __future__ import annotations

import os
import random
from typing import Any

import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

GUESSES = 5
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

    def pick(data: dict[str, Any]) -> tuple[bool, str]:
        guesses.append(data["number"])
        if data["number"] == secret:
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
        while secret not in guesses and len(guesses) < GUESSES:
            await neuro.send_force_action(None, "Guess the number.", ["guess_number_pick"])
            while neuro.pending_force is not None:  # until her guess is answered
                await trio.sleep(0.01)
        await neuro.send_context(f"The number was {secret}.")
        await neuro.stop()
    return guesses


def main() -> None:
    url = os.environ.get("NEURO_SDK_WS_URL", "ws://localhost:8000")
    guesses = trio.run(play_guessing_game, url, random.randint(1, 10))
    print("Neuro guessed", guesses)


if __name__ == "__main__":
    main()

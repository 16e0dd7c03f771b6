"""Examples from the documentation, run against a real local server."""

from __future__ import annotations

import json

import trio

from tests.helpers import WAIT, action_frame, scripted_neuro
from tests.quickstart_example import play_guessing_game


async def test_quickstart_example_plays_a_game() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        guesses: list[int] = []

        async def game() -> None:
            guesses.extend(await play_guessing_game(neuro.url, secret=7))

        nursery.start_soon(game)
        connection = await neuro.wait_connection()
        with trio.fail_after(WAIT):
            for number, guess in enumerate([3, 9, 7]):
                await connection.wait_for(
                    lambda _, n=number: connection.commands().count("actions/force") > n
                )
                await connection.send(
                    action_frame(f"g{number}", "guess_number_pick", {"number": guess})
                )
                result = await connection.wait_for_result(f"g{number}")
                assert result["message"] == {3: "Higher.", 9: "Lower.", 7: "Correct!"}[guess]
            await connection.closed.wait()
    assert guesses == [3, 9, 7]
    registered = connection.messages()[1]
    assert registered["command"] == "actions/register"
    assert json.dumps(registered["data"]["actions"][0]["schema"]["required"]) == '["number"]'

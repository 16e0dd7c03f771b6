"""A raw, sloppy game for the web console's browser test (no runtime: plain websocket frames).

    python tests/sloppy_game.py ws://127.0.0.1:PORT

It sends ``startup``, registers ``poke``, then a command the API does not have (a
rule break the stand-in reports).  Each line ``force`` on standard input makes it
force ``poke``; it answers every action with ``success: true`` and prints
``action ID`` for each.  It leaves when standard input closes.
"""

from __future__ import annotations

import json
import sys

import trio
import trio_websocket

GAME = "Sloppy Game"
POKE = {"name": "poke", "description": "Poke the game.", "schema": {}}


def frame(command: str, data: dict[str, object] | None = None) -> str:
    message: dict[str, object] = {"command": command, "game": GAME}
    if data is not None:
        message["data"] = data
    return json.dumps(message)


async def main(url: str) -> None:
    async with trio_websocket.open_websocket_url(url) as websocket:
        await websocket.send_message(frame("startup"))
        await websocket.send_message(frame("actions/register", {"actions": [POKE]}))
        await websocket.send_message(frame("actions/yell", {"text": "HELLO"}))

        async def answer() -> None:
            while True:
                message = json.loads(await websocket.get_message())
                if message.get("command") == "action":
                    action_id = message["data"]["id"]
                    result = {"id": action_id, "success": True, "message": "Poked."}
                    await websocket.send_message(frame("action/result", result))
                    print("action", action_id, flush=True)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer)
            while True:
                line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
                if not line:
                    break
                if line.strip() == "force":
                    force: dict[str, object] = {
                        "state": "",
                        "query": "Poke it.",
                        "action_names": ["poke"],
                    }
                    await websocket.send_message(frame("actions/force", force))
            nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main, sys.argv[1])

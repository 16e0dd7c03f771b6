"""A tiny game that runs from a Ren'Py bundle's ``lib/`` alone.

It connects to the URL it is given, registers one action, forces it and answers
Neuro's pick, then stops.  ``tests/test_renpy_bundle.py`` runs it on bare Pythons
(``python -I -S``, only the bundle's ``lib/`` on the path);
``tests/engines/test_bundle_on_renpy.py`` runs it inside real Ren'Py.  Python 3.9
syntax; it imports nothing the bundle does not ship.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

PICK = Action(
    "bundle_pick",
    "Pick a number.",
    {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 3}},
        "required": ["n"],
    },
)


async def play(url: str) -> dict[str, Any]:
    """Play one forced action against the Neuro at ``url``; report what happened."""
    picked: list[int] = []
    answered = trio.Event()

    def pick(data: dict[str, Any]) -> tuple[bool, str]:
        picked.append(data["n"])
        answered.set()
        return True, f"You picked {data['n']}."

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            manager = ExternalRaiseManager("game", nursery)
            neuro = TrioNeuroAPIComponent("neuro", "Bundle Test")
            manager.add_component(neuro)
            await neuro.register_action(PICK, pick)
            await manager.raise_event(Event("connect", url))
            await neuro.wait_for_websocket()
            await neuro.send_force_action(None, "Pick a number.", ["bundle_pick"])
            await answered.wait()
            while neuro.pending_force is not None:  # until the result is on the wire
                await trio.sleep(0.01)
            await neuro.stop()
    return {
        "picked": picked,
        "python": list(sys.version_info[:2]),
        "trio": trio.__version__,
        "trio_file": trio.__file__,
    }


def main(url: str) -> dict[str, Any]:
    """Run :func:`play` under ``trio.run``."""
    return trio.run(play, url)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))

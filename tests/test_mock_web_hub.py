"""The web console's hub (no browser): events, state, requests, and its HTTP side.

A raw game talks to a real stand-in over loopback; the hub watches it.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import trio
import trio_websocket

from neuro_bridge.mock import MockNeuro
from neuro_bridge.mock.web.app import serve_console
from neuro_bridge.mock.web.hub import ConsoleHub
from neuro_bridge.protocol import Action
from tests.mock_support import WAIT, raw_game

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

TOKEN = "s3"  # noqa: S105 - a test token
MOVE = Action(
    "move",
    "Move.",
    {"type": "object", "properties": {"x": {"type": "integer", "maximum": 3}}, "required": ["x"]},
)


@pytest.mark.mock_neuro(auto_play=False)
async def test_the_hub_shows_a_session_and_acts_as_neuro(mock_neuro: MockNeuro) -> None:
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            hub = ConsoleHub(nursery)
            hub.attach(mock_neuro)
            async with raw_game(mock_neuro.url) as game:
                await game.start(MOVE)
                await game.send({"command": "actions/yell", "game": "Raw Game"})
                await game.force("move", query="Move now.")
                session = await mock_neuro.wait_for_game()
                await session.wait_for_force()
                await session.wait_until(lambda: bool(session.findings))
                state = hub.state()["sessions"][0]
                assert state["actions"][0]["name"] == "move"
                assert state["force"]["query"] == "Move now."
                assert state["force"]["due_in"] is None  # nobody answers automatically
                assert state["mode"] == "hand"
                events, lost = hub.events_after(0)
                assert not lost
                (finding,) = [e for e in events if e["kind"] == "finding"]
                assert finding["rule"] == "unknown-command"
                linked = next(e for e in events if e["seq"] == finding["frame_seq"])
                assert "actions/yell" in linked["frame"] == finding["frame"]
                # Data breaking the schema is refused unless sent on purpose.
                refused = await hub.execute(
                    {"op": "action", "session": 1, "name": "move", "data": '{"x": 9}'}
                )
                assert not refused["ok"]
                assert "not sent" in refused["text"]
                sent = await hub.execute(
                    {"op": "action", "session": 1, "name": "move", "data": '{"x": 2}'}
                )
                assert sent["ok"], sent
                action = await game.next_action()
                assert action["data"] == '{"x": 2}'
                await game.answer(action["id"], True, "Moved.")
                await session.expect_result(action["id"])
                seq = hub.seq
                await hub.wait_for_event(seq - 1)
                (result,) = [
                    e for e in hub.events_after(0)[0] if e.get("action_id") and e["kind"] == "game"
                ]
                assert result["success"] is True
                assert result["latency"] >= 0
                assert hub.state()["sessions"][0]["force"] is None  # answered
                # The mode switch: at random after a delay, the stand-in plays.
                reply = await hub.execute(
                    {"op": "mode", "session": 1, "mode": "random", "delay": 0}
                )
                assert reply["ok"], reply
                await game.force("move", query="Again.")
                action = await game.next_action(start=len(game.received))
                await game.answer(action["id"], True)
                assert (await hub.execute({"op": "mode", "session": 1, "mode": "x"}))["ok"] is False
                # Console lines become buttons.
                reply = await hub.execute({"op": "line", "line": "@1 reregister"})
                assert reply == {"ok": True, "text": "#1 sent"}
                recording = hub.recording(1)
                assert recording is not None
                assert '"cause": "web"' in recording
            nursery.cancel_scope.cancel()


async def test_a_page_that_falls_behind_the_window_is_told(mock_neuro: MockNeuro) -> None:
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            hub = ConsoleHub(nursery, window=10)
            hub.attach(mock_neuro)
            async with raw_game(mock_neuro.url) as game:
                await game.start()
                for number in range(30):
                    await game.send(game.commands.context(f"tick {number}", silent=True))
                session = await mock_neuro.wait_for_game()
                await session.wait_until(lambda: len(session.contexts) == 30)
            events, lost = hub.events_after(0)
            assert lost
            assert len(events) == 10
            assert events[-1]["seq"] == hub.seq
            assert hub.events_after(hub.seq) == ([], False)
            nursery.cancel_scope.cancel()


async def test_the_page_and_its_feed_over_http(mock_neuro: MockNeuro) -> None:
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            hub = ConsoleHub(nursery)
            hub.attach(mock_neuro)
            url = await nursery.start(
                lambda task_status: serve_console(hub, token=TOKEN, task_status=task_status)
            )
            assert url.endswith(f"/?token={TOKEN}")
            port = int(url.split(":")[2].split("/")[0])
            page_at = f"ws://127.0.0.1:{port}"
            async with (
                raw_game(mock_neuro.url) as game,
                raw_game(page_at, f"/ws?token={TOKEN}") as page,
            ):
                await game.start(MOVE)
                first = await page.wait_for(lambda message: True)
                assert first["type"] == "state"

                def shows_the_registration(message: dict[str, Any]) -> bool:
                    return message["type"] == "events" and any(
                        e.get("desc") == "register: move(...)" for e in message["events"]
                    )

                await page.wait_for(shows_the_registration)
                await page.send({"id": 7, "op": "nope"})
                reply = await page.wait_for(lambda message: message["type"] == "reply")
                assert reply == {"type": "reply", "id": 7, "ok": False, "text": "unknown op 'nope'"}
            with pytest.raises(BaseExceptionGroup) as refused:
                async with raw_game(page_at, "/ws?token=wrong"):
                    pass
            assert refused.group_contains(trio_websocket.ConnectionRejected, depth=None)
            nursery.cancel_scope.cancel()


def test_the_web_stack_is_imported_only_for_web() -> None:
    code = (
        "import sys, neuro_bridge.mock, neuro_bridge.mock.cli, neuro_bridge.proxy;"
        " loaded = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('starlette', 'hypercorn', 'anyio') or m.startswith('neuro_bridge.mock.web'));"
        " print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

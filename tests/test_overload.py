"""Bounded answers under overload: handlers that block, floods, big frames.

A real websocket server on 127.0.0.1 (:class:`~tests.helpers.ScriptedNeuro`) sends
bursts of actions to a :class:`TrioNeuroAPIComponent` whose sync handler blocks
the loop (``time.sleep``), as a game's slow handler blocks its frame.  Asserted:
behaviour -- every action gets exactly one answer, an action that waited past
``max_action_wait`` is answered busy and never run, a close is noticed within a
handler run or two -- never how long anything took.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from typing import Any

import trio
import trio_websocket

from neuro_bridge.protocol import Action, NeuroCommands
from neuro_bridge.trio_ws import BUSY_MESSAGE, MAX_ACTION_WAIT, MAX_MESSAGE_SIZE
from tests.helpers import WAIT, ServerConnection, session

BLOCK = Action("block", "Blocks the game's loop for a while")
MIB = 2**20


def _results(server: ServerConnection) -> list[dict[str, Any]]:
    return [m["data"] for m in server.messages() if m["command"] == "action/result"]


async def _wait_results(server: ServerConnection, count: int) -> None:
    with trio.fail_after(WAIT):
        while len(_results(server)) < count:
            await server.wait_count(len(server.received) + 1)


async def test_actions_that_waited_behind_blocking_handlers_are_answered_busy() -> None:
    """20 actions at once, each handler blocking 1/10 of ``max_action_wait``."""
    ran: list[str] = []

    def block(data: dict[str, Any]) -> None:
        ran.append("x")
        time.sleep(MAX_ACTION_WAIT / 10)

    async with session() as s:
        await s.component.register_action(BLOCK, block)
        await s.server.wait_for_command("actions/register")
        ids = [f"b{n}" for n in range(20)]
        for action_id in ids:
            await s.server.send(NeuroCommands.action(action_id, "block"))
        await _wait_results(s.server, len(ids))
        results = _results(s.server)
        assert Counter(r["id"] for r in results) == Counter(ids)  # one answer each
        busy = [r for r in results if r.get("message") == BUSY_MESSAGE]
        assert all(r["success"] is False for r in busy)
        # Sleeps are never shorter than asked: at most 11 fit in the wait allowed,
        # and every action not run was answered busy instead.
        assert len(ran) <= 11
        assert len(ran) + len(busy) == len(ids)
        assert len(busy) >= 9
        assert not s.component.not_connected


async def test_a_close_is_noticed_between_blocking_handlers() -> None:
    """The server closes after the first answer: the queued actions are never run."""
    ran: list[bool] = []
    closed_by_server = trio.Event()

    async with session(reconnect_initial_delay=0.05) as s:

        def block(data: dict[str, Any]) -> None:
            ran.append(closed_by_server.is_set())
            time.sleep(0.02)

        await s.component.register_action(BLOCK, block)
        await s.server.wait_for_command("actions/register")
        for n in range(20):
            await s.server.send(NeuroCommands.action(f"c{n}", "block"))
        await s.server.wait_for_result("c0")
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            await s.server.websocket.aclose()
        closed_by_server.set()
        second = await s.neuro.wait_connection(1)
        await second.wait_for_command("actions/register")
        # The close is seen after the handler running when it came, or the next
        # (a busy machine may deliver it a handler later): the 16 or more actions
        # left are dropped with their connection, never run.
        assert len(ran) <= 4
        assert ran.count(True) <= 2


async def test_a_full_pending_set_answers_busy_while_reading_goes_on() -> None:
    """Async handlers that wait: past ``max_pending_actions`` the answer is busy, at once."""
    release = trio.Event()

    async def wait(data: dict[str, Any]) -> None:
        await release.wait()

    async with session(max_pending_actions=4) as s:
        await s.component.register_action(BLOCK, wait)
        await s.server.wait_for_command("actions/register")
        for n in range(10):
            await s.server.send(NeuroCommands.action(f"p{n}", "block"))
        await _wait_results(s.server, 6)
        assert {r["id"] for r in _results(s.server)} == {f"p{n}" for n in range(4, 10)}
        assert all(r.get("message") == BUSY_MESSAGE for r in _results(s.server))
        release.set()
        await _wait_results(s.server, 10)
        assert Counter(r["id"] for r in _results(s.server)) == Counter(f"p{n}" for n in range(10))


async def test_frames_over_one_mib_are_refused_by_default() -> None:
    """1 MiB by default: a bigger message closes the connection (1009), a smaller one is read."""
    assert MAX_MESSAGE_SIZE == MIB
    async with session(reconnect_initial_delay=0.05) as s:
        await s.component.register_action(BLOCK, lambda data: None)
        await s.server.wait_for_command("actions/register")
        just_under = NeuroCommands.action("small", "block", '"' + "x" * (MIB - 200) + '"')
        assert len(just_under) <= MIB
        await s.server.send(just_under)
        assert (await s.server.wait_for_result("small"))["success"] is True
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            await s.server.send(NeuroCommands.action("big", "block", "x" * MIB))
        with trio.fail_after(WAIT):
            await s.server.closed.wait()
        closed = s.server.websocket.closed
        assert closed is not None
        assert closed.code == 1009
        second = await s.neuro.wait_connection(1)
        await second.wait_for_command("actions/register")
        await second.send(NeuroCommands.action("after", "block"))
        assert (await second.wait_for_result("after"))["success"] is True

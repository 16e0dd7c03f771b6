"""The pygame guide's example, run as written against a real local server."""

from __future__ import annotations

from typing import Any

import pygame
import pytest

from tests.engines import pygame_example
from tests.engines.server_thread import ServerThread
from tests.helpers import action_frame


def test_guide_example_paints_when_neuro_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[dict[str, Any]] = []
    with ServerThread() as server:
        monkeypatch.setenv("NEURO_SDK_WS_URL", server.url)

        async def neuro_plays() -> None:
            connection = await server.neuro.wait_connection()
            force = await connection.wait_for_command("actions/force")
            assert force["data"]["action_names"] == ["paint_pot_fill"]
            await connection.send(action_frame("p1", "paint_pot_fill", {"colour": "blue"}))
            answers.append(await connection.wait_for_result("p1"))
            pygame.event.post(pygame.event.Event(pygame.QUIT))  # close the window

        server.spawn(neuro_plays)
        pygame_example.main()
        connection = server.neuro.connections[0]
    assert answers == [{"id": "p1", "success": True, "message": "The screen is blue now."}]
    assert connection.commands() == [
        "startup",
        "actions/register",
        "context",
        "actions/force",
        "action/result",
    ]

"""The action-window example (``tests/engines/window_example.py``), run as written
against the stand-in Neuro (``neuro_bridge.mock``) in a thread of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
import trio

from neuro_bridge.mock import MockConfig, MockNeuro
from tests.engines import window_example
from tests.helpers import WAIT

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def stand_in(request: pytest.FixtureRequest) -> Iterator[MockNeuro]:
    """A stand-in Neuro on 127.0.0.1 (port 0) served by ``trio.run`` in a thread."""
    options: dict[str, Any] = getattr(request, "param", {})
    mock = MockNeuro(MockConfig(host="127.0.0.1", port=0, force_delay=0.0, **options))
    ready = threading.Event()
    tokens: list[trio.lowlevel.TrioToken] = []

    async def main() -> None:
        tokens.append(trio.lowlevel.current_trio_token())
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            ready.set()

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    assert ready.wait(WAIT), "the stand-in did not start"
    try:
        yield mock
    finally:
        trio.from_thread.run_sync(mock.stop, trio_token=tokens[0])
        thread.join(WAIT)
        assert not thread.is_alive()


def test_neuro_answers_every_question(stand_in: MockNeuro, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURO_SDK_WS_URL", stand_in.url)
    answers = window_example.main(think_time=0.1, answer_time=30.0)
    assert len(answers) == 2
    for answer, (_, choices) in zip(answers, window_example.QUESTIONS):
        assert answer in choices
    assert stand_in.findings == [], stand_in.summary()
    (game,) = stand_in.sessions
    commands = game.commands()
    assert commands.count("actions/force") == 2
    assert commands.count("actions/unregister") == 2
    assert commands.count("context") == 2


def test_unanswered_questions_pass_when_their_time_is_up(
    stand_in: MockNeuro, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEURO_SDK_WS_URL", stand_in.url)
    answers = window_example.main(think_time=60.0, answer_time=0.3)
    assert answers == ["(no answer)", "(no answer)"]
    (game,) = stand_in.sessions
    assert "actions/force" not in game.commands()
    assert game.commands().count("actions/unregister") == 2
    assert stand_in.findings == [], stand_in.summary()

"""The Connect Four sample against the stand-in Neuro, and ``neuro-bridge demo``.

The game loop (headless, dummy video driver) runs on the main thread; the
stand-in Neuro runs in the same trio guest run, started through
``PygameNeuro.start(before_connect=...)`` as the demo does, and talks to the
game over a real loopback socket.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio
from neuro_connect_four import Game, Player  # type: ignore[import-not-found, unused-ignore]
from neuro_connect_four.app import GAME_TITLE, Session, run  # type: ignore[import-not-found, unused-ignore]
from neuro_connect_four.neuro import (  # type: ignore[import-not-found, unused-ignore]
    DROP_ACTION,
    TAUNT_ACTION,
    NeuroOpponent,
)

from neuro_bridge import cli
from neuro_bridge.engines.pygame import PygameNeuro
from neuro_bridge.mock import ChaosKind, MockConfig, MockNeuro
from tests.helpers import assert_refused_before_running

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from neuro_bridge.mock import MockSession

#: Every probe except the shutdown requests (tested on their own below).
CHAOS = [
    kind
    for kind in ChaosKind
    if kind not in (ChaosKind.SHUTDOWN_GRACEFUL, ChaosKind.SHUTDOWN_IMMEDIATE)
]


def play(
    config: MockConfig,
    *,
    driver: Callable[[MockNeuro], Awaitable[None]] | None = None,
    games: int | None = 1,
    time_limit: float = 40.0,
) -> tuple[Session, MockNeuro]:
    mock = MockNeuro(config)

    async def start_mock(nursery: trio.Nursery) -> str:
        await nursery.start(mock.serve)
        if driver is not None:
            nursery.start_soon(driver, mock)
        return mock.url

    session = run(
        neuro=PygameNeuro(GAME_TITLE),
        before_connect=start_mock,
        headless=True,
        auto_human=True,
        auto_skill=0.5,
        games=games,
        speed=8.0,
        seed=config.seed,
        time_limit=time_limit,
    )
    return session, mock


def test_stand_in_neuro_plays_the_sample_to_the_end_strictly() -> None:
    config = MockConfig(
        host="127.0.0.1",
        port=0,
        force_delay=0.0,
        unforced_rate=4.0,
        chaos=CHAOS,
        chaos_interval=0.05,
        # Probes that expect no answer are judged at once: one sent just before
        # the game's normal quit would otherwise count as "disconnected".
        chaos_grace=0.0,
        seed=11,
    )
    session, mock = play(config)
    assert len(session.winners) == 1
    assert session.game.is_over
    assert mock.findings == [], mock.summary()
    (game,) = mock.sessions
    assert not game.connected  # the game closed the connection on quit
    assert game.game == GAME_TITLE
    neuro_moves = sum(1 for _, player in session.game.board.discs() if player is Player.NEURO)
    assert neuro_moves >= 3
    commands = game.commands()
    assert commands[0] == "startup"
    assert commands.count("actions/force") >= neuro_moves
    # Each successful drop: its one-shot action is unregistered before the result.
    for index, command in enumerate(commands):
        if command == "actions/force":
            rest = commands[index:]
            assert "actions/unregister" in rest
    # Silent context at the start, spoken context at the end.
    assert game.contexts[0].startswith("A new game of Connect Four starts.")
    assert "won this game" in game.contexts[-1] or "draw" in game.contexts[-1]
    # Hostile probes were answered correctly (they would be findings otherwise).
    assert mock.chaos_outcomes


def test_neuro_can_taunt_and_bad_drops_are_explained() -> None:
    answers: dict[str, Any] = {}

    async def driver(mock: MockNeuro) -> None:
        game = await mock.wait_for_game()
        await game.wait_for_actions(TAUNT_ACTION)
        taunt = await game.send_action(TAUNT_ACTION, {"message": "  Filtered.  "})
        empty = await game.send_action(TAUNT_ACTION, {"message": ""})
        answers["taunt"] = await game.expect_result(taunt)
        answers["empty"] = await game.expect_result(empty)
        await game.wait_for_actions(DROP_ACTION)
        force = await game.wait_for_force()
        assert force.state is not None
        free = force.state.split("Free columns: ")[1].rstrip(".").split(", ")
        full = next(str(c) for c in range(1, 8) if str(c) not in free) if len(free) < 7 else "9"
        bad = await game.send_action(DROP_ACTION, {"column": int(full)})
        answers["bad"] = await game.expect_result(bad)

    config = MockConfig(host="127.0.0.1", port=0, force_delay=0.3, seed=5)
    _, mock = play(config, driver=driver)
    assert mock.findings == [], mock.summary()
    assert answers["taunt"].success is True
    assert answers["empty"].success is False
    assert answers["empty"].message == "The message was empty, so nothing was shown."
    assert answers["bad"].success is False
    assert "must be one of" in answers["bad"].message  # the schema lists the free columns


@pytest.mark.parametrize("graceful", [True, False])
def test_shutdown_requests_end_in_shutdown_ready(graceful: bool) -> None:
    async def driver(mock: MockNeuro) -> None:
        game: MockSession = await mock.wait_for_game()
        await game.wait_for_force()
        if graceful:
            frame = {"command": "shutdown/graceful", "data": {"wants_shutdown": True}}
        else:
            frame = {"command": "shutdown/immediate"}
        await game.send(json.dumps(frame))

    config = MockConfig(host="127.0.0.1", port=0, force_delay=0.05, seed=3)
    session, mock = play(config, driver=driver, games=None)
    assert session.quit_by_neuro
    assert mock.findings == [], mock.summary()
    (game,) = mock.sessions
    assert game.commands().count("shutdown/ready") == 1
    if graceful:  # the game was played to its end first
        assert session.winners
        assert session.game.is_over
    else:
        assert not session.winners


class RecordingNeuro:
    """Stands in for PygameNeuro where only the calls matter."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: object, **kwargs: object) -> None:
            self.calls.append((name, args))

        return record

    def is_registered(self, name: str) -> bool:
        return False


def test_invalid_moves_are_explained_with_the_rules() -> None:
    """The drop handler answers with the board's own explanation (defence in depth:
    the schema's enum of free columns already stops most bad moves)."""
    opponent = NeuroOpponent(RecordingNeuro())  # type: ignore[arg-type]
    now = [0.0]
    game = Game(opponent, clock=lambda: now[0])
    for _ in range(3):  # fill column 4: X, O, X, O, X, O
        now[0] += 1
        assert game.human_click(4)[0]
        assert opponent._drop({"column": 4}).success
    now[0] += 1
    assert game.human_click(1)[0]
    full = opponent._drop({"column": 4})
    assert full.success is False
    assert full.message == (
        "You cannot drop there: column 4 is full; free columns: 1, 2, 3, 5, 6, 7."
    )
    assert opponent._drop({"column": 2}).success
    early = opponent._drop({"column": 2})
    assert early.message == (
        "You cannot drop there: it is not your turn: wait for the person to move."
    )


# ---------------------------------------------------------------- the demo


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.mark.usefixtures("no_display")
def test_demo_runs_headless_and_reports_no_findings(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["demo", "--seed", "4", "--force-delay", "0"])
    out = capsys.readouterr().out
    assert status == 0, out
    # Why there is no window, and who plays X: a computer, not "you".
    assert "there is no display" in out
    assert "computer (X) drops in column" in out
    assert "you (" not in out
    assert "local player" not in out
    assert "listens on ws://127.0.0.1:" in out
    assert "Game 1 over:" in out
    assert "drops in column" in out
    assert "Result after 1 game:" in out
    assert "found no protocol violations" in out


def test_demo_headless_by_request_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["demo", "--headless", "--seed", "5", "--force-delay", "0", "--games", "2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "--headless" in out.splitlines()[0]
    assert "Game 2 over:" in out
    assert "Result after 2 games:" in out


def test_windowed_demo_tells_the_terminal_what_happens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A "window" on SDL's dummy driver; a computer plays the person's side so the
    # game ends on its own.
    from neuro_connect_four import app, demo  # type: ignore[import-not-found, unused-ignore]

    monkeypatch.setattr(demo, "has_display", lambda: True)
    real_run = app.run

    def run_unattended(**kwargs: Any) -> Session:
        return real_run(**{**kwargs, "auto_human": True, "games": 1, "speed": 8.0})

    monkeypatch.setattr(app, "run", run_unattended)
    status = cli.main(["demo", "--seed", "6", "--force-delay", "0", "--taunts", "0"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "listens on ws://127.0.0.1:" in out
    assert "Escape to quit" in out
    assert "Result after 1 game:" in out
    assert "drops in column" not in out  # the window shows the moves


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--force-delay", "-5", "must be >= 0"),
        ("--taunts", "-1", "must be >= 0"),
        ("--games", "0", "must be 1 or more"),
        ("--screenshot", "/nonexistent/dir/shot.png", "does not exist"),
    ],
)
def test_demo_refuses_bad_options_before_playing(
    option: str, value: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_refused_before_running(capsys, ["demo", "--headless", option, value], option, complaint)


def test_demo_saves_a_screenshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shot = tmp_path / "demo.png"
    assert cli.main(["demo", "--headless", "--seed", "4", "--force-delay", "0",
                     "--screenshot", str(shot)]) == 0  # fmt: skip
    assert shot.stat().st_size > 0
    capsys.readouterr()


# ---------------------------------------------------------------- python -m neuro_connect_four


def _sample_command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "neuro_connect_four",
        "--headless",
        "--auto",
        "--speed",
        "8",
        *args,
    ]


async def test_the_sample_plays_the_games_asked_for_against_neuro() -> None:
    mock = MockNeuro(MockConfig(host="127.0.0.1", port=0, force_delay=0.0, seed=3))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        with trio.fail_after(120):
            result = await trio.run_process(
                _sample_command("--games", "2", "--url", mock.url), capture_stderr=True
            )
        mock.stop()
    log = result.stderr.decode()
    assert "Game 2 over" in log, log
    assert "Game 3 over" not in log
    assert mock.findings == [], mock.summary()


async def test_the_sample_plays_the_games_asked_for_locally() -> None:
    with trio.fail_after(120):
        result = await trio.run_process(
            _sample_command("--games", "2", "--local"), capture_stderr=True
        )
    log = result.stderr.decode()
    assert "Game 2 over" in log, log
    assert "Game 3 over" not in log

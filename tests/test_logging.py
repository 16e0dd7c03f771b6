"""What the runtime logs: repeats aggregated, server text on one line, URLs named."""

from __future__ import annotations

import logging
import re

import pytest
import trio

from neuro_bridge._logging import RepeatedWarnings, aggregating_repeats, one_line
from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.protocol import NeuroCommands
from neuro_bridge.trio_ws import default_url
from tests.helpers import WAIT, action_frame, scripted_neuro
from tests.test_connection_faults import connected_component


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("neuro_bridge.api", logging.WARNING, __file__, 1, message, args, None)


def test_repeats_within_the_window_are_counted_then_reported() -> None:
    now = [0.0]
    repeats = RepeatedWarnings(10.0, clock=lambda: now[0])
    assert repeats.admit(_record("bad frame: %s", "a"))
    for second in (1.0, 2.0, 9.0):
        now[0] = second
        assert not repeats.admit(_record("bad frame: %s", "b"))
    assert repeats.admit(_record("other kind %s", "x"))  # another kind is its own
    now[0] = 12.0
    record = _record("bad frame: %s", "c")
    assert repeats.admit(record)
    assert record.getMessage() == "bad frame: c (and 3 more like this in the last 12 s)"


def test_flush_reports_what_is_still_counted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "neuro_bridge")
    with aggregating_repeats():
        for number in range(5):
            logging.getLogger("neuro_bridge.api").warning("dropping frame %d", number)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["dropping frame 0", "4 more like this in the last 0 s: dropping frame %d"]


def test_outside_a_connection_nothing_is_aggregated(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "neuro_bridge")
    for _ in range(3):
        logging.getLogger("neuro_bridge.api").warning("same thing")
    assert len(caplog.records) == 3


def test_one_line_escapes_control_characters() -> None:
    assert one_line("Neuro\nERROR forged\r\x1b[2J") == "Neuro\\nERROR forged\\r\\x1b[2J"
    assert one_line("x" * 300, limit=10) == "x" * 10 + "..."


def _reported(messages: list[str], template: str) -> int:
    """How many warnings of *template* happened, counting the aggregated ones."""
    total = 0
    for message in messages:
        if message.startswith(template):
            more = re.search(r"\(and (\d+) more like this", message)
            total += 1 + (int(more.group(1)) if more else 0)
        elif (flushed := re.match(r"(\d+) more like this in the last \d+ s: ", message)) and (
            message[flushed.end() :].startswith(template)
        ):
            total += int(flushed.group(1))
    return total


async def test_a_flood_of_bad_frames_logs_a_few_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "neuro_bridge")
    async with scripted_neuro() as neuro, connected_component(neuro.url):
        connection = await neuro.wait_connection()
        await connection.wait_for_command("startup")
        for number in range(500):
            await connection.send(f"not json {number}")
        await connection.send(action_frame("probe", "nothing"))
        await connection.wait_for_result("probe")
    messages = [r.getMessage() for r in caplog.records]
    lines = [m for m in messages if "dropping malformed message" in m]
    assert len(lines) < 50
    assert _reported(messages, "dropping malformed message from Neuro") == 500


async def test_server_text_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "neuro_bridge")
    forged = "Neuro\nCRITICAL neuro_bridge: forged line"
    async with scripted_neuro() as neuro, connected_component(neuro.url):
        connection = await neuro.wait_connection()
        await connection.wait_for_command("startup")
        await connection.send(NeuroCommands.startup_acknowledgement("s\n1", "neuro", forged))
        await connection.send(f"{forged} is not json")
        await connection.send(action_frame("probe", "nothing"))
        await connection.wait_for_result("probe")
        with trio.fail_after(WAIT):
            while not any("joined session" in r.getMessage() for r in caplog.records):
                await trio.sleep(0.01)
    for record in caplog.records:
        if record.name.startswith("neuro_bridge") and record.exc_info is None:
            assert "\n" not in record.getMessage(), record.getMessage()


# ---------------------------------------------------------------- connection trouble


def test_malformed_url_in_the_environment_is_an_error_where_the_game_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neuro_bridge.engines.pygame import PygameNeuro

    monkeypatch.setenv("NEURO_SDK_WS_URL", "localhost:8000")
    with pytest.raises(ValueError, match=r"\$NEURO_SDK_WS_URL: the Neuro URL must look like"):
        default_url()
    with pytest.raises(ValueError, match=r"NEURO_SDK_WS_URL"):
        PygameNeuro("Game")
    with pytest.raises(ValueError, match="Neuro URL"):
        PygameNeuro("Game", url="http://localhost:8000")


async def test_malformed_url_from_the_environment_is_not_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NEURO_SDK_WS_URL", "ws://host:99999")
    async with connected_component("") as component:
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("NEURO_SDK_WS_URL" in m and "not retrying" in m for m in errors)
    assert not any("retrying in" in r.getMessage() for r in caplog.records)


async def test_unreachable_url_is_retried_and_the_warning_names_url_and_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "neuro_bridge")
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()  # nothing listens there now
    url = f"ws://127.0.0.1:{port}"
    async with connected_component(url) as component:
        with trio.fail_after(WAIT):
            while sum("could not connect" in r.getMessage() for r in caplog.records) < 2:
                await trio.sleep(0.01)
        async with scripted_neuro(port=port) as neuro:
            await neuro.wait_connection()
            with trio.fail_after(WAIT):
                while component.not_connected:
                    await trio.sleep(0.01)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert re.search(
        rf"could not connect to Neuro at {url} \(.+\); retrying in \d+\.\d s", warnings[0]
    )
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert f"connected to Neuro at {url}" in infos


@pytest.mark.parametrize(
    ("host", "warned"),
    [("0.0.0.0", True), ("127.0.0.1", False)],  # noqa: S104 - on purpose
)
async def test_stand_in_warns_when_listening_beyond_loopback(
    host: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    mock = MockNeuro(MockConfig(host=host, port=0))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        mock.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("any machine that can reach this one" in m for m in warnings) is warned

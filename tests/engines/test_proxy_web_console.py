"""``neuro-bridge proxy --web --record``: the Godot sample behind the proxy, seen in a browser.

Real Godot 4 headless plays the tic-tac-toe sample against the stand-in through
``neuro-bridge proxy`` (a process); headless Chromium (Playwright, see
:mod:`tests.browser`) opens the proxy's console and sees the game's action.
Without Godot or Chromium these tests fail in CI.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import trio

from neuro_bridge.mock import MockConfig
from tests.browser import open_chromium
from tests.engines.test_godot import sample_copy
from tests.engines.test_godot_sidecar import STEP, GodotRun, serving, start_sample

if TYPE_CHECKING:
    from pathlib import Path

    from tests.engines.engines import Engine


def look_at_the_console(page_url: str) -> dict[str, object]:
    """Open the console in Chromium; return what it shows of the game (a thread's job)."""
    from playwright.sync_api import expect

    with open_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_url)
        card = page.locator('.action[data-name="play"]')
        expect(card).to_be_visible(timeout=STEP * 1000)
        shown = {
            "games": page.locator("#games button").all_inner_texts(),
            "description": card.locator(".desc").inner_text(),
            "send_hidden": not card.locator(".send").is_visible(),
            "mode_hidden": not page.locator("#mode").is_visible(),
        }
        expect(page.locator("#feed li.neuro").first).to_be_visible(timeout=STEP * 1000)
        shown["feed"] = page.locator("#feed li").all_inner_texts()
        page.close()
        return shown


async def test_the_godot_sample_behind_proxy_web(godot: Engine, tmp_path: Path) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    record = tmp_path / "sessions"
    with trio.fail_after(STEP * 3):
        async with trio.open_nursery() as nursery:
            # A slow Neuro: the game waits for her moves while the page looks.
            mock = await serving(
                nursery, MockConfig(host="127.0.0.1", port=0, seed=4, force_delay=1.0)
            )
            proxy = await trio.lowlevel.open_process(
                [
                    *(sys.executable, "-m", "neuro_bridge", "proxy", "--port", "0"),
                    *("--upstream", mock.url, "--web", "--record", str(record)),
                    "--exit-with-game",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            lines = GodotRun(proxy)
            nursery.start_soon(lines.collect)
            (listening,) = await lines.wait_for(r"listening on (ws://\S+)")
            (console,) = await lines.wait_for(r"web console at (http://\S+)")
            run = await start_sample(nursery, godot, project, listening[1], "--games", "1")
            shown = await trio.to_thread.run_sync(look_at_the_console, console[1])
            await run.wait()
            await lines.wait()
            mock.stop()
    assert "[tic-tac-toe] done: 1 games" in run.output, run.output
    assert mock.findings == [], mock.summary()
    assert shown["description"], shown
    assert shown["send_hidden"]  # the proxy's console watches; Neuro is upstream
    assert shown["mode_hidden"]
    assert any(re.search(r"#1 \S", text) for text in shown["games"]), shown  # type: ignore[attr-defined]
    assert any("action #" in line for line in shown["feed"]), shown  # type: ignore[attr-defined]
    # --record kept the game's session, Neuro's actions included.
    (session,) = record.glob("session-*.jsonl")
    rows = [json.loads(line) for line in session.read_text().splitlines()]
    assert rows[0]["source"] == "proxy"
    assert any(row["type"] == "neuro" and '"action"' in row["frame"] for row in rows)
    assert rows[-1]["type"] == "end"

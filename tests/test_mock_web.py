"""``neuro-bridge mock --web`` in a real browser: Debian's Chromium, headless, driven by Playwright.

Chromium comes from ``make engines`` (see :mod:`tests.browser`); Playwright drives
that binary through its executable path and never downloads a browser.  Without it
the tests fail (they do not skip).  Everything is real: the CLI and the games are
processes talking over loopback sockets.

Set ``NEURO_BRIDGE_SCREENSHOTS=1`` to refresh the documentation's screenshot
(``docs/images/mock-web-console.png``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import open_chromium

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
PAINT_POT = ROOT / "tests" / "engines" / "pygame_example.py"  # the pygame guide's example
SLOPPY = ROOT / "tests" / "sloppy_game.py"
SCREENSHOT = ROOT / "docs" / "images" / "mock-web-console.png"
WAIT = 15.0
WAIT_MS = WAIT * 1000


class Running:
    """A process whose output lines are collected by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not printed; output:\n" + "\n".join(self.lines))

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(WAIT)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with open_chromium() as chromium:
        yield chromium


@pytest.fixture
def stand_in() -> Iterator[tuple[Running, str, str]]:
    """``neuro-bridge mock --web`` playing by hand: (process, websocket URL, page URL)."""
    mock = Running(
        [
            *(sys.executable, "-m", "neuro_bridge.mock.cli", "--port", "0"),
            *("--web", "--no-play", "--no-console", "--quiet"),
        ]
    )
    try:
        url = mock.wait_for("listening on ws://").split()[-1]
        page_url = mock.wait_for("web console at http://").split()[-1]
        yield mock, url, page_url
    finally:
        mock.stop()


def game_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEURO_SDK_WS_URL": url,
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        "PYGAME_HIDE_SUPPORT_PROMPT": "1",
    }


def open_page(browser: Browser, page_url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(page_url)
    return page, errors


def test_the_page_needs_the_token(browser: Browser, stand_in: tuple[Running, str, str]) -> None:
    _, _, page_url = stand_in
    page = browser.new_page()
    try:
        response = page.goto(page_url.split("?")[0])
        assert response is not None
        assert response.status == 403
    finally:
        page.close()


def test_acting_as_neuro_on_a_pygame_game(
    browser: Browser, stand_in: tuple[Running, str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    _, url, page_url = stand_in
    game = Running([sys.executable, str(PAINT_POT)], env=game_env(url))
    page, errors = open_page(browser, page_url)
    try:
        card = page.locator('.action[data-name="paint_pot_fill"]')
        expect(card).to_be_visible(timeout=WAIT_MS)
        expect(card.locator(".desc")).to_have_text("Fill the screen with a colour.")
        # The force in flight, waiting for an answer by hand.
        expect(page.locator("#force")).to_be_visible()
        expect(page.locator("#force-query")).to_have_text("Pick a colour for the screen.")
        expect(card).to_have_class("action forced")
        expect(page.locator("input[name=mode][value=hand]")).to_be_checked()
        # The enum became buttons; pick one and send it as Neuro.
        card.get_by_role("button", name="blue", exact=True).click()
        card.locator(".send").click()
        first = page.locator('#pairs tr[data-id="1-1"]')
        expect(first).to_contain_text("success: The screen is blue now.", timeout=WAIT_MS)
        expect(first).to_contain_text("ms")  # its latency
        expect(page.locator("#force")).to_be_hidden()
        expect(page.locator("#feed li.game").last).to_contain_text("result #1-1: success")
        # Data that breaks the schema is refused unless sent on purpose, and then marked.
        card.locator("summary").click()
        card.locator("textarea.raw").fill('{"colour": "purple"}')
        card.locator(".send").click()
        expect(card.locator(".outcome")).to_contain_text("not sent:", timeout=WAIT_MS)
        card.locator("input.on-purpose").check()
        card.locator(".send").click()
        expect(card.locator(".outcome")).to_contain_text("(breaks:", timeout=WAIT_MS)
        second = page.locator('#pairs tr[data-id="1-2"]')
        expect(second).to_have_class("breaks", timeout=WAIT_MS)
        expect(second.locator("td.bad")).to_contain_text("failure", timeout=WAIT_MS)
        expect(page.locator("#feed li.neuro .tag.breaks")).to_have_count(1)
        shot = SCREENSHOT if os.environ.get("NEURO_BRIDGE_SCREENSHOTS") else tmp_path / "page.png"
        page.locator("details").first.evaluate("d => d.open = false")
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        # The download button gives the session as JSONL.
        with page.expect_download() as download:
            page.locator("#download").click()
        recorded = Path(download.value.path()).read_text().splitlines()
        assert '"format": "neuro-bridge-session"' in recorded[0]
        assert any('"cause": "web:breaks-schema"' in line for line in recorded)
        assert errors == []
    finally:
        page.close()
        game.stop()


def test_rule_breaks_and_the_mode_switch(
    browser: Browser, stand_in: tuple[Running, str, str]
) -> None:
    from playwright.sync_api import expect

    _, url, page_url = stand_in
    game = Running([sys.executable, str(SLOPPY), url])
    page, errors = open_page(browser, page_url)
    try:
        expect(page.locator("#games button")).to_have_text("#1 Sloppy Game", timeout=WAIT_MS)
        # The rule break, linked to its frame.
        finding = page.locator('#findings li[data-rule="unknown-command"]')
        expect(finding).to_be_visible(timeout=WAIT_MS)
        expect(finding.locator("pre")).to_contain_text('"actions/yell"')
        finding.locator("a.frame-link").click()
        expect(page.locator("#feed li.highlight")).to_contain_text("actions/yell")
        # By hand (--no-play): a force waits.
        game.type("force")
        expect(page.locator("#force")).to_be_visible(timeout=WAIT_MS)
        page.wait_for_timeout(700)
        expect(page.locator("#pairs tbody tr")).to_have_count(0)
        assert not any(line.startswith("action") for line in game.lines)
        # At random after a delay: the stand-in answers it.
        page.locator("#delay").fill("0.3")
        page.locator("input[name=mode][value=random]").check()
        expect(page.locator("#pairs tbody tr")).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator("#pairs tbody tr").first).to_contain_text("success: Poked.")
        expect(page.locator("#feed li.neuro .tag", has_text="force")).to_have_count(1)
        # By hand again: the next force waits, until "answer at random".
        page.locator("input[name=mode][value=hand]").check()
        expect(page.locator("#reply")).to_have_text("#1 mode hand", timeout=WAIT_MS)
        game.type("force")
        expect(page.locator("#force")).to_be_visible(timeout=WAIT_MS)
        page.wait_for_timeout(700)
        expect(page.locator("#pairs tbody tr")).to_have_count(1)
        page.locator("#force-random").click()
        expect(page.locator("#pairs tbody tr")).to_have_count(2, timeout=WAIT_MS)
        expect(page.locator("#feed li.neuro .tag", has_text="web")).to_have_count(1)
        assert errors == []
    finally:
        page.close()
        game.stop()

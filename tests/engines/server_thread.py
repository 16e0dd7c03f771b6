"""A stand-in Neuro in a thread of its own, for games whose main loop is not trio's.

An engine test runs the game loop (and its trio guest run) on the main thread, so
the server runs under ``trio.run`` in a background thread.  The test talks to it
with :meth:`ServerThread.call`, which must only run *non-waiting* server code: the
game cannot make progress while the main thread blocks in it.  To wait for the
game, run frames and poll :attr:`ServerThread.neuro` (the lists it keeps are safe
to read from the main thread).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import pygame
import trio

from tests.helpers import WAIT, ScriptedNeuro, ServerConnection, scripted_neuro

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from types import TracebackType

    from neuro_bridge.engines.pygame import PygameNeuro

T = TypeVar("T")


class ServerThread:
    """Run :class:`tests.helpers.ScriptedNeuro` on 127.0.0.1 in a thread; a context manager."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._ready = threading.Event()
        self._thread = threading.Thread(target=trio.run, args=(self._main,), daemon=True)
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._neuro: ScriptedNeuro | None = None
        self._nursery: trio.Nursery | None = None
        self.error: BaseException | None = None

    async def _main(self) -> None:
        try:
            async with scripted_neuro(**self._options) as neuro, trio.open_nursery() as nursery:
                self._neuro = neuro
                self._nursery = nursery
                self._token = trio.lowlevel.current_trio_token()
                self._stop = trio.Event()
                self._ready.set()
                await self._stop.wait()
                nursery.cancel_scope.cancel()
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            raise

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(WAIT) or self.error is not None:
            raise RuntimeError("the server thread did not start") from self.error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None and self._stop is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the server thread did not stop"

    @property
    def neuro(self) -> ScriptedNeuro:
        """The server."""
        assert self._neuro is not None
        return self._neuro

    @property
    def url(self) -> str:
        """Where games connect."""
        return self.neuro.url

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await fn(*args)`` in the server's trio run; it must not wait for the game."""
        assert self._token is not None
        return trio.from_thread.run(fn, *args, trio_token=self._token)

    def spawn(self, fn: Callable[[], Awaitable[object]]) -> None:
        """Start ``fn()`` as a background task of the server (returns at once)."""
        assert self._token is not None
        assert self._nursery is not None
        trio.from_thread.run_sync(self._nursery.start_soon, fn, trio_token=self._token)

    def send(self, connection: ServerConnection, frame: str) -> None:
        """Send one frame to the game."""
        self.call(connection.send, frame)


def run_frames(
    neuro: PygameNeuro,
    until: Callable[[], bool],
    *,
    timeout: float = WAIT,
    fps: float = 60,
    screen: pygame.Surface | None = None,
) -> int:
    """Run a real game loop (events, a drawn frame, :meth:`PygameNeuro.wait_frame`).

    Returns the number of frames it took for *until* to become true.

    Raises:
        AssertionError: *until* stayed false for *timeout* seconds.

    """
    deadline = time.monotonic() + timeout
    frames = 0
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s ({frames} frames)")
        for event in pygame.event.get():
            neuro.handle_event(event)
        if screen is not None:
            screen.fill((frames % 256, 40, 80))
            pygame.display.flip()
        neuro.wait_frame(fps)
        frames += 1
    return frames


def first_connection(server: ServerThread) -> Callable[[], ServerConnection | None]:
    """Return a poll for the server's first connection (``None`` until it exists)."""

    def poll() -> ServerConnection | None:
        connections = server.neuro.connections
        return connections[0] if connections else None

    return poll

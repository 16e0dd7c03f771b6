"""The Neuro API over trio-websocket: ``TrioNeuroAPI`` and ``TrioNeuroAPIComponent``.

:class:`TrioNeuroAPI` is the plain client: give it an open
``trio_websocket.WebSocketConnection`` and call its ``send_*`` methods and
:meth:`~neuro_bridge.api.AbstractNeuroAPI.read_message` yourself.

:class:`TrioNeuroAPIComponent` is the one most games want.  Add it to a
libcomponent manager and raise ``Event("connect", url)``; from then on it keeps a
connection open until :meth:`TrioNeuroAPIComponent.stop`:

* **(Re)connecting.**  A failed or dropped connection is retried with exponential
  backoff and jitter (first retry within a second, capped at
  :data:`RECONNECT_MAX_DELAY`).  Whatever the server does -- refuse the upgrade with
  any HTTP answer, send a bad ``101``, accept and drop -- is a failed attempt,
  logged (WARNING, with the URL and the next delay) and retried; a connection that
  ends within :data:`STABLE_CONNECTION_TIME` counts as failed too, so the delays
  keep growing against a server that keeps dropping.  On every connection it sends
  ``startup``, registers every current action and re-sends the force in flight --
  before anything else -- then delivers what was queued while disconnected, then calls
  :meth:`~TrioNeuroAPIComponent.websocket_connect_successful`.
* **While disconnected** nothing is lost silently.  Registrations, unregistrations
  and forces only change local state, which the next connection restores.
  ``context`` and ``shutdown/ready`` frames wait in a bounded queue
  (:data:`OUTBOX_SIZE`) and are delivered in order after the restoration;
  :class:`OutboxFullError` is raised when it is full.  Results for actions of a dead
  connection are stale (Neuro has given up on them): they are dropped and logged.
* **Keepalive.**  Any byte from Neuro proves her alive.  After
  :data:`KEEPALIVE_INTERVAL` seconds of silence a ping goes out; if neither its
  pong nor anything else arrives within :data:`KEEPALIVE_TIMEOUT`, the connection
  is half-open: it is dropped and re-established.  A busy game never counts as a
  dead Neuro: while the read loop works through a backlog, no ping is judged.
* **Reading.**  Every message is dispatched; a bad ``action`` is answered and the
  loop goes on; an exception in a hook is logged and the loop goes on.  Messages
  larger than :data:`MAX_MESSAGE_SIZE` bytes (UTF-8, 1 MiB by default; raise it
  with ``max_message_size``) are refused from their frame headers, before their
  payload is read: the connection is closed (1009) and re-established.
* **Under load** every action with an id gets exactly one answer, and in time.
  Reading never waits for handlers: actions read are queued and handled in order
  by a task of their own, so a close or a flood is seen while a handler runs.  An
  action is answered ``success: false`` with
  :data:`~neuro_bridge.component.BUSY_MESSAGE` -- Neuro may retry -- at once when
  :data:`~neuro_bridge.component.MAX_PENDING_ACTIONS` actions already await their
  result, and instead of being run when it waited longer than
  :data:`MAX_ACTION_WAIT` seconds for its turn (behind handlers that block).
  Actions of a connection that is gone are dropped, never run.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import random
import ssl
import sys
import urllib.parse
from typing import TYPE_CHECKING, Final

import attrs
import h11
import trio
import trio_websocket
import wsproto.utilities

from neuro_bridge._logging import aggregating_repeats, one_line
from neuro_bridge._stream import WatchedStream
from neuro_bridge.api import (
    AbstractNeuroAPI,
    ActionMessageError,
    ActionMessageTypeError,
    WebsocketMessage,
)
from neuro_bridge.component import (
    BUSY_MESSAGE,
    DEFAULT_ACTION_TIMEOUT,
    MAX_PENDING_ACTIONS,
    AbstractNeuroAPIComponent,
)
from neuro_bridge.protocol import GameCommandKind

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from libcomponent.component import Event

    from neuro_bridge.protocol import ActionRequested

__all__ = [
    "BUSY_MESSAGE",
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "DEFAULT_URL",
    "KEEPALIVE_INTERVAL",
    "KEEPALIVE_TIMEOUT",
    "MAX_ACTION_WAIT",
    "MAX_MESSAGE_SIZE",
    "MAX_PENDING_ACTIONS",
    "MESSAGE_QUEUE_SIZE",
    "OUTBOX_SIZE",
    "RECONNECT_INITIAL_DELAY",
    "RECONNECT_MAX_DELAY",
    "STABLE_CONNECTION_TIME",
    "URL_ENVIRONMENT_VARIABLE",
    "OutboxFullError",
    "TrioNeuroAPI",
    "TrioNeuroAPIComponent",
    "check_url",
    "default_url",
]

logger = logging.getLogger(__name__)

#: Environment variable naming Neuro's websocket URL, by convention.
URL_ENVIRONMENT_VARIABLE: Final = "NEURO_SDK_WS_URL"
#: Where every test server listens by default.
DEFAULT_URL: Final = "ws://localhost:8000"
#: Seconds allowed for the TCP connection and websocket handshake.
CONNECT_TIMEOUT: Final = 5.0
#: Seconds allowed for the closing handshake before the socket is closed anyway.
CLOSE_TIMEOUT: Final = 1.0
#: Messages buffered by trio-websocket; large enough that pings are answered while
#: the game is busy.
MESSAGE_QUEUE_SIZE: Final = 256
#: Largest message accepted from Neuro, in bytes (UTF-8, not characters).  Neuro's
#: frames are a few kilobytes; pass ``max_message_size`` for more.
MAX_MESSAGE_SIZE: Final = 2**20
#: Seconds of silence from Neuro before a keepalive ping.
KEEPALIVE_INTERVAL: Final = 4.0
#: Seconds a ping may go unanswered (with nothing else heard) before the connection
#: counts as half-open.
KEEPALIVE_TIMEOUT: Final = 4.0
#: First reconnect delay in seconds (jitter takes it down to half of this).
RECONNECT_INITIAL_DELAY: Final = 0.5
#: Longest reconnect delay in seconds.
RECONNECT_MAX_DELAY: Final = 10.0
#: ``context``/``shutdown/ready`` frames kept while disconnected.
OUTBOX_SIZE: Final = 256
#: Seconds a connection must stay open to count as a success for the backoff; one
#: that ends sooner (a server that accepts and drops) counts as a failed attempt.
STABLE_CONNECTION_TIME: Final = 10.0
#: Seconds within which an action read is answered: one that cannot be -- it waited
#: that long behind handlers that block the loop, or would, judging by how long the
#: last handler held it -- is answered with
#: :data:`~neuro_bridge.component.BUSY_MESSAGE` instead of run.
MAX_ACTION_WAIT: Final = 1.0
#: Seconds the action task may spend in handlers before it lets the reading side
#: take in what arrived meanwhile (a close, more actions to answer busy).
_CATCH_UP_AFTER: Final = 0.005
#: Seconds a sync handler may have taken for the answers of the actions after it
#: to be held and sent together (one write for a run of quick actions).
_QUICK_HANDLER: Final = 0.001
#: Scheduling rounds the reading side gets to catch up, at most, and how many in a
#: row must bring nothing new for it to count as caught up.
_CATCH_UP_ROUNDS: Final = 64
_QUIET_ROUNDS: Final = 3
#: Seconds between checks for an overdue force (see AbstractNeuroAPI.check_forces).
_FORCE_CHECK_INTERVAL: Final = 1.0


def default_url() -> str:
    """Return ``$NEURO_SDK_WS_URL`` if set and non-empty, else :data:`DEFAULT_URL`.

    Raises:
        ValueError: If the variable is set to something that is not a websocket
            URL (see :func:`check_url`): no reconnect could cure that.
    """
    url = os.environ.get(URL_ENVIRONMENT_VARIABLE)
    if not url:
        return DEFAULT_URL
    try:
        return check_url(url)
    except ValueError as exc:
        raise ValueError(f"${URL_ENVIRONMENT_VARIABLE}: {exc}") from None


def check_url(url: object) -> str:
    """Return *url* if it is a usable ``ws://`` or ``wss://`` URL.

    Raises:
        ValueError: With what is wrong, for anything else.
    """
    if not isinstance(url, str):
        raise ValueError(f"the Neuro URL must be a str, not {type(url).__name__}")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
        raise ValueError(f"the Neuro URL must look like ws://host:port, not {url!r}")
    try:
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"bad port in Neuro URL {url!r}: {exc}") from None
    try:
        # What the resolver does first; an empty or over-long label fails there
        # with a UnicodeError that no reconnect can cure.
        parsed.hostname.encode("idna")
    except UnicodeError:
        raise ValueError(f"bad host name in Neuro URL {url!r}") from None
    return url


@attrs.define
class _Attempt:
    """How one connection attempt went (see ``_run_connection``)."""

    #: When the websocket opened (trio time), or ``None`` if it never did.
    opened_at: float | None = None
    #: What went wrong, in words for the log (``None``: a clean close).
    error: str | None = None
    #: Whether it stayed open long enough to reset the backoff.
    stable: bool = False

    @property
    def opened(self) -> bool:
        return self.opened_at is not None


#: What the server or the network can make a connection attempt raise.
_PEER_ERRORS: Final = (
    OSError,
    trio.TooSlowError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    trio_websocket.HandshakeError,
    trio_websocket.ConnectionClosed,
    wsproto.utilities.RemoteProtocolError,
    # trio-websocket answering a bad 101 trips over h11 (LocalProtocolError).
    h11.ProtocolError,
)


def _describe(exc: BaseException) -> str:
    """Say in one line what went wrong with a connection attempt."""
    if isinstance(exc, trio_websocket.ConnectionRejected):
        return f"the server refused the websocket upgrade with HTTP {exc.status_code}"
    if isinstance(exc, trio.TooSlowError):
        return "timed out"
    if isinstance(exc, (wsproto.utilities.RemoteProtocolError, h11.ProtocolError)):
        return f"bad websocket upgrade answer: {one_line(str(exc))}"
    text = one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OutboxFullError(RuntimeError):
    """Too many frames queued while disconnected; nothing was dropped."""


class TrioNeuroAPI(AbstractNeuroAPI):
    """The Neuro API over one trio-websocket connection.

    Args:
        game_title: The game's display name.
        connection: An open websocket, or ``None`` to set one later with
            :meth:`connect`.
    """

    def __init__(
        self,
        game_title: str,
        connection: trio_websocket.WebSocketConnection | None = None,
    ) -> None:
        AbstractNeuroAPI.__init__(self, game_title)
        self._websocket = connection

    @property
    def not_connected(self) -> bool:
        """``True`` when there is no connection."""
        return self._websocket is None

    @property
    def connection(self) -> trio_websocket.WebSocketConnection:
        """The active connection.

        Raises:
            RuntimeError: If there is none.
        """
        if self._websocket is None:
            raise RuntimeError("not connected to Neuro")
        return self._websocket

    def connect(self, websocket: trio_websocket.WebSocketConnection | None) -> None:
        """Set the connection, or clear it with ``None``."""
        self._websocket = websocket

    async def write_to_websocket(self, data: str) -> None:
        """Send *data* as one text frame.

        Raises:
            trio_websocket.ConnectionClosed: If the connection is closed or closing.
            RuntimeError: If there is no connection.
        """
        await self.connection.send_message(data)

    async def read_from_websocket(self) -> WebsocketMessage:
        """Return the next message.

        Raises:
            trio_websocket.ConnectionClosed: On a connection error or close.
            trio.BrokenResourceError: If the internal channel broke.
            AssertionError: If the connection returned something that is not a
                message (raised explicitly, so it survives ``python -O``).
            RuntimeError: If there is no connection.
        """
        message = await self.connection.get_message()
        if not isinstance(message, (bytes, bytearray, memoryview, str)):
            raise AssertionError(f"unexpected message type {type(message).__name__}")
        return message


class TrioNeuroAPIComponent(AbstractNeuroAPIComponent, TrioNeuroAPI):
    """The Neuro API as a libcomponent component that keeps itself connected.

    Add it to a manager, then ``await manager.raise_event(Event("connect", url))``
    (``url`` may be ``None`` or ``""`` for :func:`default_url`).  It binds its own
    ``"connect"`` handler, :meth:`handle_connect`, when added.  That handler calls
    :meth:`read_message` in a loop; call it yourself only when you manage the
    connection (it then also raises ``trio_websocket.ConnectionClosed`` when the
    connection is lost).

    Args:
        component_name: The libcomponent component name.
        game_title: The game's display name.
        connection: An initial connection, for direct use without
            :meth:`handle_connect`.

    Keyword-only tuning (each defaults to the module constant of the same name in
    upper case): ``connect_timeout``, ``close_timeout``, ``keepalive_interval``,
    ``keepalive_timeout``, ``reconnect_initial_delay``, ``reconnect_max_delay``,
    ``message_queue_size``, ``max_message_size``, ``outbox_size``,
    ``stable_connection_time``, ``max_pending_actions``, ``max_action_wait``; and
    ``action_timeout`` (:data:`~neuro_bridge.component.DEFAULT_ACTION_TIMEOUT`).
    """

    def __init__(
        self,
        component_name: str,
        game_title: str,
        connection: trio_websocket.WebSocketConnection | None = None,
        *,
        action_timeout: float = DEFAULT_ACTION_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        close_timeout: float = CLOSE_TIMEOUT,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT,
        reconnect_initial_delay: float = RECONNECT_INITIAL_DELAY,
        reconnect_max_delay: float = RECONNECT_MAX_DELAY,
        message_queue_size: int = MESSAGE_QUEUE_SIZE,
        max_message_size: int = MAX_MESSAGE_SIZE,
        outbox_size: int = OUTBOX_SIZE,
        stable_connection_time: float = STABLE_CONNECTION_TIME,
        max_pending_actions: int = MAX_PENDING_ACTIONS,
        max_action_wait: float = MAX_ACTION_WAIT,
    ) -> None:
        AbstractNeuroAPIComponent.__init__(
            self, component_name, game_title, action_timeout=action_timeout
        )
        # TrioNeuroAPI.__init__ would run AbstractNeuroAPI.__init__ a second time.
        self._websocket = connection
        for name, value in (
            ("connect_timeout", connect_timeout),
            ("close_timeout", close_timeout),
            ("keepalive_interval", keepalive_interval),
            ("keepalive_timeout", keepalive_timeout),
            ("reconnect_initial_delay", reconnect_initial_delay),
            ("reconnect_max_delay", reconnect_max_delay),
            ("stable_connection_time", stable_connection_time),
            ("max_action_wait", max_action_wait),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        for name, size in (
            ("message_queue_size", message_queue_size),
            ("max_message_size", max_message_size),
            ("outbox_size", outbox_size),
            ("max_pending_actions", max_pending_actions),
        ):
            if not (isinstance(size, int) and size > 0):
                raise ValueError(f"{name} must be a positive int, not {size!r}")
        self.connect_timeout = connect_timeout
        self.close_timeout = close_timeout
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self.reconnect_initial_delay = reconnect_initial_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.message_queue_size = message_queue_size
        self.max_message_size = max_message_size
        self.outbox_size = outbox_size
        self.stable_connection_time = stable_connection_time
        self.max_pending_actions = max_pending_actions
        self.max_action_wait = max_action_wait

        # (sequence, frame) of context/shutdown-ready frames held while offline.
        self._outbox: collections.deque[tuple[int, str]] = collections.deque()
        # Counts frames asked for, to restore held frames and the force in order.
        self._sequence = 0
        self._force_sequence = 0
        # A connection that is open but not yet restored takes no ordinary frames.
        self._ready = connection is not None
        self._first_attempt = trio.Event()
        self._run_scope: trio.CancelScope | None = None
        self._finished = trio.Event()
        self._finished.set()
        self._stop_requested = False
        self._random = random.Random()  # noqa: S311 - jitter, not secrets
        # The URL of the current session, and (error, delay) of the last failure:
        # what websocket_connect_failed logs.
        self._url: str | None = None
        self._last_failure = ("not connected yet", 0.0)
        # What the keepalive watches (see _keepalive), and why it dropped a connection.
        self._watched: WatchedStream | None = None
        self._messages_read = 0
        self._waiting_for_message = False
        self._drop_reason: str | None = None
        # Actions read and waiting for the action task, with when each was read
        # (trio time); None when there is no action task (then handled inline).
        self._action_queue: collections.deque[tuple[float, ActionRequested]] | None = None
        self._action_queued = trio.Event()
        # While the action task is busy: since when the reading side may have been
        # held up (an action read now may have arrived that early), and how long
        # the last handler held the loop.
        self._behind_since: float | None = None
        self._handler_time = 0.0

    def connect(self, websocket: trio_websocket.WebSocketConnection | None) -> None:
        """Set the connection, or clear it with ``None``."""
        TrioNeuroAPI.connect(self, websocket)
        self._ready = websocket is not None

    def bind_handlers(self) -> None:
        """Bind :meth:`handle_connect` to ``"connect"`` (and the component's events)."""
        super().bind_handlers()
        self.register_handler("connect", self.handle_connect)

    async def handle_action(self, action: ActionRequested) -> None:
        """Handle an ``action``: answered once, late if need be, never dropped.

        When ``max_pending_actions`` earlier actions still await their result, the
        new one is answered at once with ``success=False`` and
        :data:`~neuro_bridge.component.BUSY_MESSAGE` (Neuro may retry) rather than
        left waiting.  Otherwise see
        :meth:`AbstractNeuroAPIComponent.handle_action
        <neuro_bridge.component.AbstractNeuroAPIComponent.handle_action>`.
        """
        if self._pending_set_full:
            logger.warning(
                "answering action %r as busy: %d actions still await their result",
                action.name,
                len(self._unanswered) - 1,
            )
            await self.send_action_result(action.id, False, BUSY_MESSAGE)
            return
        await super().handle_action(action)

    @property
    def _pending_set_full(self) -> bool:
        return len(self._unanswered) > self.max_pending_actions  # the newest included

    async def _take_action(self, action: ActionRequested) -> None:
        """Queue an action just read for the action task (see :meth:`_run_actions`).

        Handled at once instead -- :meth:`handle_action` answers it busy -- when
        the pending set is full, and when there is no action task (a connection
        set with :meth:`connect` and read by the caller).
        """
        queue = self._action_queue
        if queue is None or self._pending_set_full:
            await self.handle_action(action)
            return
        behind_since = self._behind_since
        queue.append((trio.current_time() if behind_since is None else behind_since, action))
        self._action_queued.set()
        await trio.lowlevel.checkpoint()

    async def _run_actions(self, queue: collections.deque[tuple[float, ActionRequested]]) -> None:
        """Handle the queued actions in order, for as long as the connection lasts.

        An action whose connection is gone is dropped.  One that cannot be
        answered within ``max_action_wait`` of its arrival -- it waited that long
        already, or the actions ahead of it and its own handler would take it past,
        judging by how long the last handler took -- is answered busy at once
        instead of run.  After handlers have held the loop for a while (sync
        handlers block it), the reading side gets to take in what arrived
        meanwhile before the next action is looked at: a close ends the connection
        before another abandoned action runs, and an action that arrived during the
        block counts as waiting since the block began.
        """
        caught_up = trio.current_time()
        stream = self._watched
        while True:
            if not queue:
                if stream is not None and stream.holding:
                    await self._send_held(stream)
                    continue  # more may have been queued meanwhile
                self._behind_since = None  # the reading side keeps up from here
                self._action_queued = trio.Event()
                await self._action_queued.wait()
                continue
            if trio.current_time() - caught_up > _CATCH_UP_AFTER:
                if stream is not None:
                    await self._send_held(stream)
                await self._catch_up()
                caught_up = trio.current_time()
            self._behind_since = caught_up
            for late in self._take_late_actions(queue):
                logger.warning(
                    "answering action %r as busy: it would be answered more than %g s"
                    " after it arrived (max_action_wait)",
                    late.name,
                    self.max_action_wait,
                )
                await self.send_action_result(late.id, False, BUSY_MESSAGE)
            if not queue:
                continue
            _, action = queue.popleft()
            if stream is not None:
                if self._handler_time <= _QUICK_HANDLER:
                    # The answers of a run of quick actions go out together when
                    # the queue is empty, before a catch-up, or past HOLD_LIMIT.
                    stream.hold_writes()
                else:
                    await self._send_held(stream)
            self._last_hold = 0.0
            try:
                await self.handle_action(action)
            except trio_websocket.ConnectionClosed:
                pass  # the read loop sees it too and ends the connection
            except Exception:
                logger.exception("error while handling action %r; continuing", action.name)
            # How long it held the loop: awaiting its answer's write is not counted.
            self._handler_time = self._last_hold

    async def _send_held(self, stream: WatchedStream) -> None:
        """Send the answers held back (see :meth:`WatchedStream.hold_writes`)."""
        # A connection gone meanwhile: the read loop sees it and ends it.
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.flush()

    def _take_late_actions(
        self, queue: collections.deque[tuple[float, ActionRequested]]
    ) -> list[ActionRequested]:
        """Remove and return the queued actions that cannot be answered in time.

        Forgotten ones (their connection is gone) are dropped without a word.
        """
        now = trio.current_time()
        estimate = self._handler_time
        if now - queue[0][0] + len(queue) * estimate <= self.max_action_wait:
            return []  # the fast path: even the oldest at the back would be in time
        kept: list[tuple[float, ActionRequested]] = []
        late: list[ActionRequested] = []
        for read_at, action in queue:
            if not self.is_unanswered(action.id):
                continue
            if now - read_at + (len(kept) + 1) * estimate > self.max_action_wait:
                late.append(action)
            else:
                kept.append((read_at, action))
        queue.clear()
        queue.extend(kept)
        return late

    async def _catch_up(self) -> None:
        """Give the reading side scheduling rounds until it has taken in what arrived.

        Caught up means: the read loop waits for a message and, for
        ``_QUIET_ROUNDS`` rounds in a row, no byte and no message came in.  At
        most ``_CATCH_UP_ROUNDS`` rounds (a flood never lets it go quiet).
        """
        quiet = 0
        for _ in range(_CATCH_UP_ROUNDS):
            heard = self._heard()
            await trio.lowlevel.checkpoint()
            if self._heard() != heard or not self._waiting_for_message:
                quiet = 0
                continue
            quiet += 1
            if quiet >= _QUIET_ROUNDS:
                return

    # ------------------------------------------------------------ hooks

    def websocket_connect_failed(self) -> None:
        """React to a failed connection attempt; the next one follows.

        The default logs a WARNING naming the URL, what went wrong and the delay
        before the next attempt.
        """
        error, delay = self._last_failure
        logger.warning(
            "could not connect to Neuro at %s (%s); retrying in %.1f s", self._url, error, delay
        )

    async def websocket_connect_successful(self) -> None:
        """React to each successful connection (state already restored).

        The default logs "connected to Neuro at URL" (INFO) and makes a trio
        checkpoint.
        """
        logger.info("connected to Neuro at %s", self._url)
        await trio.lowlevel.checkpoint()

    # ------------------------------------------------------------ lifecycle

    async def wait_for_websocket(self) -> None:
        """Return once the first connection attempt has succeeded or failed.

        Check :attr:`not_connected` afterwards to learn which.  "First" counts from
        the component's creation or the last :meth:`stop`, so after a stop it waits
        for the next session started by a ``"connect"`` event.
        """
        await self._first_attempt.wait()

    async def handle_connect(self, event: Event[str | None]) -> None:
        """Connect to ``event.data`` (or :func:`default_url`) and stay connected.

        Reads and dispatches messages, reconnecting with backoff when the connection
        fails or drops.  Returns only after :meth:`stop`.  Every way a connection
        can fail -- nothing listening, a timeout, the upgrade refused with any HTTP
        answer or a bad ``101``, a connection that drops -- is logged and retried.
        A connection that ends sooner than ``stable_connection_time`` after it
        opened counts as a failed attempt, so a server that accepts and drops is
        retried with growing delays too.  A URL that is not a websocket URL is
        logged as an error and ends the call at once (nothing to retry).
        """
        try:
            url = check_url(event.data or default_url())
        except ValueError as exc:
            logger.error("cannot connect to Neuro: %s; not retrying", exc)
            self._first_attempt.set()
            await trio.lowlevel.checkpoint()
            return
        if not self._finished.is_set():
            logger.warning("ignoring connect to %s: already connecting or connected", url)
            await trio.lowlevel.checkpoint()
            return
        self._finished = trio.Event()
        self._stop_requested = False
        self._url = url
        failures = 0
        try:
            with trio.CancelScope() as self._run_scope:
                while not self._stop_requested:
                    attempt = await self._run_connection(url)
                    failures = 0 if attempt.stable else failures + 1
                    if self.stop_requested:  # stop() ran while we were connected
                        break
                    delay = self._reconnect_delay(failures)
                    self._last_failure = (attempt.error or "connection closed", delay)
                    if attempt.opened:
                        logger.warning(
                            "connection to Neuro at %s ended (%s); reconnecting in %.1f s",
                            url,
                            attempt.error or "closed",
                            delay,
                        )
                    else:
                        self.websocket_connect_failed()
                        self._first_attempt.set()
                    await trio.sleep(delay)
        finally:
            self._run_scope = None
            self.connect(None)
            self._first_attempt.set()
            self._finished.set()

    def _reconnect_delay(self, failures: int) -> float:
        ceiling = min(self.reconnect_max_delay, self.reconnect_initial_delay * 2.0**failures)
        return ceiling * self._random.uniform(0.5, 1.0)

    async def _open_stream(self, url: str) -> trio.abc.Stream:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "wss":
            return await trio.open_ssl_over_tcp_stream(
                host, parts.port or 443, ssl_context=ssl.create_default_context()
            )
        return await trio.open_tcp_stream(host, parts.port or 80)

    async def _run_connection(self, url: str) -> _Attempt:
        """Open one connection and serve it until it ends; say how it went.

        Never raises for anything the server or the network did: trio-websocket
        raises a refused upgrade (``ConnectionRejected``) or a bad ``101``
        (wsproto's ``RemoteProtocolError``) inside its reader task, so it leaves the
        nursery as an exception group; such a group is a failed attempt too.
        """
        attempt = _Attempt()
        try:
            with aggregating_repeats():
                await self._connect_and_serve(url, attempt)
        except BaseExceptionGroup as group:
            peer_errors, rest = group.split(_PEER_ERRORS)
            if peer_errors is None or (rest is not None and rest.split(trio.Cancelled)[1]):
                raise
            # Only the peer's errors (and perhaps a cancellation, which trio
            # raises again at the next checkpoint): a failed attempt.
            attempt.error = _describe(peer_errors.exceptions[0])
        if attempt.opened_at is not None:
            attempt.stable = trio.current_time() - attempt.opened_at >= self.stable_connection_time
        return attempt

    async def _connect_and_serve(self, url: str, attempt: _Attempt) -> None:
        """Open the TCP stream and the websocket, then serve them until the end.

        The TCP stream is opened here and always closed here: trio-websocket 0.12
        leaves a client's socket open when the server closes first.
        """
        parts = urllib.parse.urlsplit(url)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        async with trio.open_nursery() as nursery:
            stream: WatchedStream | None = None
            try:
                with trio.fail_after(self.connect_timeout):
                    stream = WatchedStream(await self._open_stream(url), self.max_message_size)
                    websocket = await trio_websocket.wrap_client_stream(
                        nursery,
                        stream,  # type: ignore[arg-type]  # any trio Stream works
                        parts.netloc,
                        resource,
                        message_queue_size=self.message_queue_size,
                        max_message_size=self.max_message_size,
                    )
            except _PEER_ERRORS as exc:
                attempt.error = _describe(exc)
                if stream is not None:
                    await trio.aclose_forcefully(stream)
                nursery.cancel_scope.cancel()
                return
            except BaseException:  # cancelled: stop(), the reader task failed, or a bug
                if stream is not None:
                    await trio.aclose_forcefully(stream)
                raise
            attempt.opened_at = trio.current_time()
            self._watched = stream
            try:
                await self._serve(websocket, nursery)
            finally:
                self.connect(None)
                self._handler_nursery = None
                queue, self._action_queue = self._action_queue, None
                if queue:
                    queue.clear()  # never run: their connection is gone
                self._first_attempt.set()
                stale = self.forget_unanswered()
                if stale:
                    logger.warning("connection lost with %d actions unanswered", len(stale))
                closed = websocket.closed
                if stream.oversized is not None:
                    attempt.error = (
                        f"Neuro sent a message of {stream.oversized:,} bytes or more,"
                        f" over the limit of {self.max_message_size:,}"
                    )
                elif self._drop_reason is not None:
                    attempt.error = self._drop_reason
                    self._drop_reason = None
                elif closed is not None and attempt.error is None:
                    attempt.error = f"code {closed.code}" + (
                        f", {one_line(closed.reason)!r}" if closed.reason else ""
                    )
                with trio.move_on_after(self.close_timeout) as cleanup:
                    cleanup.shield = True
                    await websocket.aclose()
                    if stream.oversized is not None and stream.sending_since is None:
                        with contextlib.suppress(
                            trio.BrokenResourceError, trio.ClosedResourceError
                        ):
                            await stream.send_close_frame(1009, "message too big")
                await trio.aclose_forcefully(stream)
                nursery.cancel_scope.cancel()

    async def _serve(
        self, websocket: trio_websocket.WebSocketConnection, nursery: trio.Nursery
    ) -> None:
        self.connect(websocket)
        self._ready = False  # until _restore_after_connect has run
        self._handler_nursery = nursery
        try:
            await self._restore_after_connect()
        except trio_websocket.ConnectionClosed:
            logger.info("connection closed while restoring state")
            return
        self._first_attempt.set()
        nursery.start_soon(self._keepalive, websocket, nursery.cancel_scope)
        nursery.start_soon(self._watch_forces)
        try:
            await self.websocket_connect_successful()
        except trio_websocket.ConnectionClosed:
            return
        except Exception:
            logger.exception("websocket_connect_successful raised; staying connected")
        queue: collections.deque[tuple[float, ActionRequested]] = collections.deque()
        self._action_queue = queue
        nursery.start_soon(self._run_actions, queue)
        await self._read_loop()

    async def _restore_after_connect(self) -> None:
        async with self._write_lock:
            # Frames committed before this connection was ready: held, dropped, or
            # (registrations, the force) part of the restoration below.
            while self._outgoing:
                await self._deliver(*self._outgoing.popleft())
            # Queued frames and the force in flight go out in the order they were
            # asked for.
            for frame, kind in self._restoration_frames():
                while kind is GameCommandKind.FORCE and self._outbox:
                    sequence, held = self._outbox[0]
                    if sequence > self._force_sequence:
                        break
                    await self.write_to_websocket(held)
                    self._outbox.popleft()
                await self.write_to_websocket(frame)
            while self._outbox:
                await self.write_to_websocket(self._outbox[0][1])
                self._outbox.popleft()
            self._ready = True

    async def _watch_forces(self) -> None:
        """About once a second, re-send or give up an overdue force (see check_forces)."""
        while True:
            await trio.sleep(_FORCE_CHECK_INTERVAL)
            if self._ledger.force is not None or self._forces:
                await self.check_forces()

    def _heard(self) -> tuple[int, int]:
        """Return what proves Neuro alive: bytes from her, messages taken from the queue."""
        watched = self._watched
        return (0 if watched is None else watched.bytes_received, self._messages_read)

    async def _keepalive(
        self, websocket: trio_websocket.WebSocketConnection, scope: trio.CancelScope
    ) -> None:
        """Drop the connection once Neuro is silent and does not answer a ping.

        Any byte from Neuro, and any message the read loop takes from the queue,
        proves her alive: a ping goes out only after ``keepalive_interval`` of
        silence.  When its pong does not come within ``keepalive_timeout``, the
        connection is half-open -- unless the read loop is still busy with one
        message and not stuck sending: then the pong waits behind the game's own
        backlog (trio-websocket stops reading once its queue is full).
        """
        while True:
            heard = self._heard()
            await trio.sleep(self.keepalive_interval)
            if self._heard() != heard:
                continue
            with trio.move_on_after(self.keepalive_timeout):
                try:
                    await websocket.ping()
                except trio_websocket.ConnectionClosed:
                    return
                continue
            if self._heard() != heard:
                continue  # the pong is on its way behind other messages
            watched = self._watched
            sending_since = None if watched is None else watched.sending_since
            stuck_sending = (
                sending_since is not None
                and trio.current_time() - sending_since >= self.keepalive_timeout
            )
            if not self._waiting_for_message and not stuck_sending:
                continue  # the read loop is busy: the backlog is ours
            self._drop_reason = (
                f"no answer to a ping within {self.keepalive_timeout:g} s: half-open"
            )
            logger.warning(
                "Neuro did not answer a ping within %g s; the connection is"
                " half-open, reconnecting",
                self.keepalive_timeout,
            )
            scope.cancel()
            return

    async def read_from_websocket(self) -> WebsocketMessage:
        """Return the next message (see :meth:`TrioNeuroAPI.read_from_websocket`)."""
        self._waiting_for_message = True
        try:
            message = await TrioNeuroAPI.read_from_websocket(self)
        finally:
            self._waiting_for_message = False
        self._messages_read += 1
        return message

    async def _read_loop(self) -> None:
        while True:
            try:
                await self.read_message()
            except (trio_websocket.ConnectionClosed, trio.BrokenResourceError) as exc:
                logger.info("connection to Neuro closed: %r", exc)
                return
            except (ActionMessageError, ActionMessageTypeError):
                pass  # logged and answered by handle_invalid_action
            except Exception:
                if self.not_connected:  # connect(None) from a hook: nothing left to read
                    logger.info("connection cleared while reading; reconnecting")
                    return
                logger.exception("error while handling a message from Neuro; continuing")

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`stop` was called since the last :meth:`handle_connect`."""
        return self._stop_requested

    async def stop(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the websocket and end :meth:`handle_connect`; no reconnect after it.

        Returns within about ``close_timeout`` seconds even when the server does not
        answer the close.  Safe to call at any time, and more than once.
        """
        self._stop_requested = True
        websocket = self._websocket
        if websocket is not None:
            with trio.move_on_after(self.close_timeout):
                await websocket.aclose(code, reason)
        if self._run_scope is not None:
            self._run_scope.cancel()
            with trio.move_on_after(self.close_timeout):
                await self._finished.wait()
        self.connect(None)
        self._ready = False
        if self._first_attempt.is_set():  # the next session's first attempt is awaited anew
            self._first_attempt = trio.Event()
        await trio.lowlevel.checkpoint()

    # ------------------------------------------------------------ sending

    async def _deliver(self, frame: str, kind: GameCommandKind) -> None:
        self._sequence += 1
        if kind is GameCommandKind.FORCE:
            self._force_sequence = self._sequence
        websocket = self._websocket
        if websocket is not None and self._ready:
            try:
                await self.write_to_websocket(frame)
            except trio_websocket.ConnectionClosed:
                pass
            else:
                # A write can race the reader noticing a dead peer and still
                # "succeed" into the socket buffer; then it went nowhere.
                if websocket.closed is None or websocket.closed.code != 1006:
                    return
        self._hold(frame, kind)

    def _hold(self, frame: str, kind: str) -> None:
        """Keep or drop a frame that could not be sent (see the module docstring)."""
        if kind in (GameCommandKind.CONTEXT, GameCommandKind.SHUTDOWN_READY):
            if len(self._outbox) >= self.outbox_size:
                raise OutboxFullError(
                    f"{len(self._outbox)} messages are waiting for Neuro to reconnect;"
                    " not queueing more"
                )
            self._outbox.append((self._sequence, frame))
            logger.debug("queued %s until Neuro reconnects", kind)
        elif kind == GameCommandKind.RESULT:
            logger.warning("dropping an action result: the connection it answers is gone")
        else:
            logger.debug("not connected: %s will be restored on reconnect", kind)

    @property
    def queued_messages(self) -> int:
        """Frames waiting in the outbox for the next connection."""
        return len(self._outbox)

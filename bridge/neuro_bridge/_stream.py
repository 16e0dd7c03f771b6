"""The byte stream under the game's websocket, watched.

:class:`WatchedStream` sits between the TCP (or TLS) stream and trio-websocket and
keeps three facts the websocket layer does not expose:

* **Bytes arrive.**  Any byte from the server proves it alive; the keepalive pings
  only after real silence (see ``TrioNeuroAPIComponent``).
* **A send is stuck.**  When a send has been waiting for a long time, the server
  is not reading: that is not the game's own backlog.
* **Writes held together.**  The task that works through a run of actions asks
  (:meth:`WatchedStream.hold_writes`) for its writes to be held and sent together
  (:meth:`WatchedStream.flush`): a flood's answers cost one system call per run,
  not one each.  Order is kept: any other write sends what is held first.
* **Message sizes in bytes.**  trio-websocket measures a text message with
  ``len()``, in characters, so a frame of four-byte characters could be four times
  the limit.  This reads the websocket frame headers the server sends and refuses a
  message as soon as its headers announce more than ``max_message_size`` bytes:
  the stream then reports end of file, the connection is dropped and the payload
  is never read into memory.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Final

import trio

if TYPE_CHECKING:
    import socket

__all__ = ["WatchedStream"]

#: Longest HTTP head of an upgrade answer that is scanned for its end.
_MAX_HEAD: Final = 64 * 1024
#: Opcodes of control frames start here (close, ping, pong); they never count.
_FIRST_CONTROL_OPCODE: Final = 8
#: Bytes held for :meth:`WatchedStream.flush` at most; past it, writes go out.
HOLD_LIMIT: Final = 64 * 1024


class WatchedStream(trio.abc.Stream):
    """A client's websocket byte stream that watches what it carries.

    Args:
        stream: The open TCP or TLS stream to the server.
        max_message_size: Largest message accepted from the server, in bytes.

    Attributes:
        bytes_received: Bytes received so far.
        sending_since: When (trio time) the send in progress started, or ``None``.
        oversized: The size a refused message announced (its bytes so far), or
            ``None`` while every message was within the limit.
    """

    def __init__(self, stream: trio.abc.Stream, max_message_size: int) -> None:
        self._stream = stream
        self.max_message_size = max_message_size
        self.bytes_received = 0
        self.sending_since: float | None = None
        self.oversized: int | None = None
        # Frame parsing: the HTTP head first, then one frame header after another.
        self._head: bytearray | None = bytearray()
        self._scanning = True
        self._header = bytearray()
        self._header_needed = 2
        self._payload_left = 0
        self._message_size = 0
        # Writes held for flush(), and the task whose writes are held.
        self._held = bytearray()
        self._holder: trio.lowlevel.Task | None = None
        # Taken by every send to the stream: flush() writes from outside
        # trio-websocket's own lock.
        self._send_lock = trio.StrictFIFOLock()

    @property
    def socket(self) -> socket.socket:
        """The underlying socket (trio-websocket reads addresses from it)."""
        inner = self._stream
        if isinstance(inner, trio.SSLStream):
            inner = inner.transport_stream
        return inner.socket  # type: ignore[attr-defined, no-any-return]

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send *data* (after what is held), noting when the send started.

        From the task that called :meth:`hold_writes`, *data* is held instead,
        up to :data:`HOLD_LIMIT` bytes, until :meth:`flush` or the next send.
        """
        holder = self._holder
        if (
            holder is not None
            and holder is trio.lowlevel.current_task()
            and len(self._held) + len(data) <= HOLD_LIMIT
        ):
            self._held += data
            return
        await self._send(data)

    @property
    def holding(self) -> bool:
        """Whether writes are held, or wait to be sent by :meth:`flush`."""
        return self._holder is not None or bool(self._held)

    def hold_writes(self) -> None:
        """Hold this task's writes until :meth:`flush` (other tasks' go out at once)."""
        self._holder = trio.lowlevel.current_task()

    async def flush(self) -> None:
        """Stop holding writes, and send what is held."""
        self._holder = None
        if self._held:
            await self._send(b"")

    async def _send(self, data: bytes | bytearray | memoryview) -> None:
        lock = self._send_lock
        if lock.locked():
            await lock.acquire()
        else:  # no checkpoint: the caller's lock or the send below makes one
            lock.acquire_nowait()
        try:
            if self._held:
                data = self._held + data
                self._held = bytearray()
            if data:
                self.sending_since = trio.current_time()
                await self._stream.send_all(data)
        finally:
            self.sending_since = None
            lock.release()

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until a send might not block."""
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Receive data; end of file once a message over the limit was announced."""
        if self.oversized is not None:
            await trio.lowlevel.checkpoint()
            return b""
        data = await self._stream.receive_some(max_bytes)
        if data:
            self.bytes_received += len(data)
            if self._scanning:
                cut = self._scan(data)
                if cut is not None:
                    return data[:cut]  # what came before the refused frame
        return data

    async def aclose(self) -> None:
        """Close the underlying stream."""
        await self._stream.aclose()

    async def send_close_frame(self, code: int, reason: str) -> None:
        """Send a websocket close frame directly (only once the websocket is done)."""
        payload = struct.pack("!H", code) + reason.encode()[:120]
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        await self._stream.send_all(bytes((0x88, 0x80 | len(payload))) + mask + masked)

    def _scan(self, data: bytes | bytearray) -> int | None:
        """Follow the frames in *data*; return where a refused frame starts, if any."""
        position = 0
        if self._head is not None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > _MAX_HEAD:
                    self._scanning = False
                return None
            if not self._head.startswith(b"HTTP/1.1 101"):
                self._scanning = False  # a refusal: trio-websocket reads its body
                return None
            position = end + 4 - (len(self._head) - len(data))
            self._head = None
        size = len(data)
        header_start = 0  # where the current frame header started in *data*
        while position < size:
            if self._payload_left:
                step = min(self._payload_left, size - position)
                self._payload_left -= step
                position += step
                continue
            if not self._header:
                header_start = position
            need = self._header_needed - len(self._header)
            self._header += data[position : position + need]
            position += min(need, size - position)
            if len(self._header) < self._header_needed:
                return None
            if self._header_needed == 2:
                length_code = self._header[1] & 0x7F
                extra = {126: 2, 127: 8}.get(length_code, 0) + (4 if self._header[1] & 0x80 else 0)
                if extra:
                    self._header_needed += extra
                    continue
            if self._frame_refused():
                return header_start
        return None

    def _frame_refused(self) -> bool:
        """Account for the complete frame header held; return whether it is refused."""
        header = self._header
        length_code = header[1] & 0x7F
        if length_code == 126:
            length = int.from_bytes(header[2:4], "big")
        elif length_code == 127:
            length = int.from_bytes(header[2:10], "big")
        else:
            length = length_code
        self._header = bytearray()
        self._header_needed = 2
        self._payload_left = length
        if header[0] & 0x0F < _FIRST_CONTROL_OPCODE:
            self._message_size += length
            if self._message_size > self.max_message_size:
                self.oversized = self._message_size
                self._scanning = False
                return True
            if header[0] & 0x80:  # FIN: the message is complete
                self._message_size = 0
        return False

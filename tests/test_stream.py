"""WatchedStream: frame headers followed across any chunking, sizes in bytes."""

from __future__ import annotations

import struct

import pytest
import trio
import trio.testing

from neuro_bridge._stream import HOLD_LIMIT, WatchedStream

HEAD = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def frame(opcode: int, payload: bytes, *, fin: bool = True, announce: int | None = None) -> bytes:
    """A server's (unmasked) websocket frame; *announce* overrides the stated length."""
    length = len(payload) if announce is None else announce
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = bytes((first, length))
    elif length < 2**16:
        header = bytes((first, 126)) + struct.pack("!H", length)
    else:
        header = bytes((first, 127)) + struct.pack("!Q", length)
    return header + payload


async def read_through(data: bytes, chunk: int, limit: int) -> tuple[bytes, WatchedStream]:
    """Feed *data* in chunks of *chunk* bytes; return what the watched stream passed on."""
    sender, receiver = trio.testing.memory_stream_pair()
    watched = WatchedStream(receiver, limit)
    passed = b""
    for start in range(0, len(data), chunk):
        await sender.send_all(data[start : start + chunk])
        got = await watched.receive_some(65536)  # the whole chunk, or what precedes a refusal
        if not got:
            break
        passed += got
    return passed, watched


@pytest.mark.parametrize("chunk", [1, 3, 7, 4096])
async def test_fragmented_message_over_the_limit_is_cut_at_its_refused_frame(chunk: int) -> None:
    allowed = HEAD + frame(1, b"a" * 100) + frame(1, b"b" * 400, fin=False)
    allowed += frame(9, b"ping") + frame(0, b"c" * 400, fin=False)  # control: not counted
    refused = frame(0, b"d" * 400)
    passed, watched = await read_through(allowed + refused, chunk, limit=1000)
    # Everything before the refused frame, and at most the part of its header that
    # came in earlier chunks.
    assert passed == (allowed + refused)[: len(passed)]
    assert len(allowed) <= len(passed) < len(allowed) + 4
    assert watched.oversized == 1200
    assert await watched.receive_some() == b""  # end of file from now on


@pytest.mark.parametrize("chunk", [1, 5, 4096])
async def test_sizes_count_bytes_and_reset_after_each_message(chunk: int) -> None:
    data = HEAD + b"".join(frame(1, ("é" * 300).encode()) for _ in range(10))  # 600 B each
    passed, watched = await read_through(data, chunk, limit=600)
    assert passed == data
    assert watched.oversized is None
    assert watched.bytes_received == len(data)


async def test_a_huge_announced_length_is_refused_before_its_payload() -> None:
    data = HEAD + frame(1, b"", announce=2**40) + b"xxxx"
    passed, watched = await read_through(data, 4096, limit=16 * 2**20)
    assert passed == HEAD
    assert watched.oversized == 2**40


async def test_a_refusal_answer_is_never_parsed_as_frames() -> None:
    data = b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\n" + frame(1, b"", announce=2**40)
    passed, watched = await read_through(data, 4096, limit=10)
    assert passed == data
    assert watched.oversized is None


def _writer() -> tuple[WatchedStream, trio.testing.MemorySendStream]:
    """A watched stream whose writes land in a memory stream."""
    sink = trio.testing.MemorySendStream()
    stream = WatchedStream(trio.StapledStream(sink, trio.testing.MemoryReceiveStream()), 2**20)
    return stream, sink


def _sent(sink: trio.testing.MemorySendStream) -> bytes:
    """What reached *sink* since the last look."""
    try:
        return bytes(sink.get_data_nowait())
    except trio.WouldBlock:
        return b""


async def test_held_writes_go_out_together_on_flush() -> None:
    stream, sink = _writer()
    stream.hold_writes()
    for part in (b"one ", b"two ", b"three"):
        await stream.send_all(part)
    assert _sent(sink) == b""
    await stream.flush()
    assert not stream.holding
    assert _sent(sink) == b"one two three"
    await stream.send_all(b"!")  # no longer held
    assert _sent(sink) == b"!"


async def test_another_tasks_write_sends_what_is_held_first() -> None:
    stream, sink = _writer()
    stream.hold_writes()
    await stream.send_all(b"held ")

    async def other() -> None:
        await stream.send_all(b"other ")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other)
    assert _sent(sink) == b"held other "
    await stream.send_all(b"again")  # the holder's writes are still held
    assert _sent(sink) == b""
    await stream.flush()
    assert _sent(sink) == b"again"


async def test_writes_past_the_hold_limit_go_out_with_what_is_held() -> None:
    stream, sink = _writer()
    stream.hold_writes()
    await stream.send_all(b"a" * (HOLD_LIMIT - 10))
    await stream.send_all(b"b" * 20)
    assert _sent(sink) == b"a" * (HOLD_LIMIT - 10) + b"b" * 20
    await stream.send_all(b"c")  # still the holder: held again
    assert _sent(sink) == b""
    await stream.flush()
    assert _sent(sink) == b"c"

"""Run a game's command against the stand-in Neuro: :func:`play_game`.

What a sample's "play it with one command" script and a game's own test need: the
stand-in on a free loopback port, the game started with ``NEURO_SDK_WS_URL``
pointing at it, and the stand-in stopped when the game's process ends.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import attrs
import trio

from neuro_bridge.mock.config import MockConfig
from neuro_bridge.mock.server import MockNeuro
from neuro_bridge.trio_ws import URL_ENVIRONMENT_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from neuro_bridge.mock.transcript import Transcript

__all__ = ["GamePlayed", "play_game"]


@attrs.frozen
class GamePlayed:
    """How a :func:`play_game` run ended."""

    #: The game process's exit status (negative: the signal that ended it, on POSIX).
    returncode: int
    #: The stand-in that played it, stopped: its sessions, findings and summary.
    mock: MockNeuro


async def play_game(
    command: Sequence[str],
    *,
    config: MockConfig | None = None,
    env: Mapping[str, str] | None = None,
    transcript: Transcript | None = None,
) -> GamePlayed:
    """Serve the stand-in, run *command* against it until it exits, stop the stand-in.

    Args:
        command: The game's command line (no shell).
        config: The stand-in's settings; its port should be 0 (a free one).
            Default: ``MockConfig(host="127.0.0.1", port=0)``.
        env: The game's environment (default: this process's); ``NEURO_SDK_WS_URL``
            is set to the stand-in's URL in any case.
        transcript: Where the stand-in narrates the game, if anywhere.

    Raises:
        ValueError: If *command* is empty.
        OSError: If the stand-in cannot listen or the command cannot be started
            (the stand-in is stopped first).
    """
    if not command:
        raise ValueError("command must name the game's program")
    mock = MockNeuro(config or MockConfig(host="127.0.0.1", port=0), transcript=transcript)
    returncode = 0
    failed: OSError | None = None
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        game_env = {**(os.environ if env is None else env), URL_ENVIRONMENT_VARIABLE: mock.url}
        try:
            done = await trio.run_process(list(command), env=game_env, check=False)
            returncode = done.returncode
        except OSError as error:
            failed = error  # raised below, outside the nursery (not in an ExceptionGroup)
        finally:
            mock.stop()
    if failed is not None:
        raise failed
    return GamePlayed(returncode, mock)

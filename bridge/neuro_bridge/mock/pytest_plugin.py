"""A pytest plugin with the ``mock_neuro`` fixture: a stand-in Neuro per test.

Installing neuro-bridge registers this plugin with pytest (the ``pytest11`` entry
point ``neuro_bridge_mock``): nothing to add to ``conftest.py`` -- listing it in
``pytest_plugins`` as well makes pytest stop with "Plugin already registered".  It
needs pytest-trio (``trio_mode`` or ``@pytest.mark.trio`` tests)::

    async def test_my_game_plays(mock_neuro):
        game = start_my_game(mock_neuro.url)          # connect to mock_neuro.url
        with trio.fail_after(10):
            session = await mock_neuro.wait_for_game()
            await session.wait_for_actions("move")
            result = await session.expect_result(await session.send_action("move"))
        assert result.success
        mock_neuro.assert_conforms()

The server listens on 127.0.0.1 on a free port and plays forces after
:data:`FIXTURE_FORCE_DELAY`; change any :class:`~neuro_bridge.mock.MockConfig`
field with the ``mock_neuro`` marker::

    @pytest.mark.mock_neuro(result_timeout=1.0, chaos=["invalid_json"])
    async def test_bad_data(mock_neuro): ...

It is stopped (every connection closed) when the test ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import pytest
import trio

from neuro_bridge.mock.config import MockConfig
from neuro_bridge.mock.server import MockNeuro

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["FIXTURE_FORCE_DELAY", "mock_neuro", "pytest_configure"]

#: The fixture's default ``force_delay``: short, so tests run fast.
FIXTURE_FORCE_DELAY: Final = 0.05


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mock_neuro`` marker."""
    config.addinivalue_line(
        "markers",
        "mock_neuro(**fields): MockConfig fields for the mock_neuro fixture",
    )


def _config_for(request: pytest.FixtureRequest) -> MockConfig:
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "force_delay": FIXTURE_FORCE_DELAY,
    }
    for marker in reversed(list(request.node.iter_markers("mock_neuro"))):
        fields.update(marker.kwargs)
    return MockConfig(**fields)


@pytest.fixture
async def mock_neuro(request: pytest.FixtureRequest) -> AsyncIterator[MockNeuro]:
    """Yield a running :class:`~neuro_bridge.mock.MockNeuro` on a free local port."""
    mock = MockNeuro(_config_for(request))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        try:
            yield mock
        finally:
            mock.stop()

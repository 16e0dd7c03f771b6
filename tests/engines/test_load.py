"""A short run of every scenario of ``bench/load.py``: behaviour, never timings.

Each scenario puts a hostile server (its own process, 127.0.0.1, port 0) against
a real 60 FPS pygame game with SDL's dummy drivers.  Passing means: the game never
crashes, the server survives, every action with an id is answered exactly once
while its connection is up (none never, none twice, no answer to an id never
sent), and the game keeps trying where it should.  The bench prints the frame
times and delays these runs do not assert.
"""

from __future__ import annotations

import pytest
from bench.load import BY_NAME, SCENARIOS, run_scenario

#: Seconds each scenario's server misbehaves for (the bench's default is 10).
DURATION = 1.5
#: Keepalive settings for the scenarios about silence: detected within the run.
QUICK_KEEPALIVE = {"keepalive_interval": 0.3, "keepalive_timeout": 0.3}
#: Scenarios that need longer: detect the silence, close, and come back.
LONGER = {"silent": 4.0}


@pytest.mark.parametrize("name", [scenario.name for scenario in SCENARIOS])
def test_load_scenario(name: str) -> None:
    scenario = BY_NAME[name]
    options = QUICK_KEEPALIVE if name in ("silent", "frozen-thawed") else None
    outcome = run_scenario(scenario, LONGER.get(name, DURATION), component_options=options)
    assert outcome.crashes == 0, outcome.crash
    assert outcome.server_alive
    assert outcome.never == 0
    assert outcome.twice == 0
    assert outcome.unexpected == 0
    assert outcome.registered_twice == 0  # startup, then each action once per connection
    assert outcome.frames > 0
    if scenario.server in ("flood", "lean"):
        assert outcome.sent > 0
        assert outcome.once + outcome.lost_on_drop == outcome.sent
    if scenario.server in ("flood", "lean") and not scenario.drops:
        assert outcome.connections == 1  # a busy game never drops its connection
    if scenario.server in ("refuse", "accept-close", "oversized", "silent"):
        assert outcome.attempts >= 2  # retried
    if name == "frames-15mib":
        # Over the 1 MiB default: refused from the frame header, never read in (the
        # close code is tests/test_overload.py's; this server is busy sending).
        assert outcome.once == 0
        assert outcome.lost_on_drop == outcome.sent
        assert outcome.rss_growth_mb < 15
    if name == "frozen-thawed":
        assert outcome.connections >= 2  # the freeze was detected, the thaw reconnected

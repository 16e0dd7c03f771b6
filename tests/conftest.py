"""Shared pytest configuration.

Hypothesis: no per-example deadline (timing on shared machines is noisy; tests
assert behaviour, not milliseconds), and a fixed seed sequence in CI so a run
there is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "neuro_bridge",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("neuro_bridge")

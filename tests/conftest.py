"""Shared pytest configuration."""

from __future__ import annotations

pytest_plugins = ["neuro_bridge.mock.pytest_plugin"]

"""A subcommand module whose own import fails (for ``test_cli``)."""

from __future__ import annotations

import neuro_bridge_absent_dependency  # type: ignore[import-not-found]  # noqa: F401

"""Engine provisioning's reading of apt's sources: the Debian mirror is the machine's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from tools.engines import provision

if TYPE_CHECKING:
    from pathlib import Path

MIRROR = "http://mirror.invalid/debian"


def write(apt: Path, name: str, text: str) -> None:
    path = apt / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_mirror_comes_from_a_deb822_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        "sources.list.d/debian.sources",
        "Types: deb\nURIs: http://security.invalid/debian-security\nSuites: bookworm-security\n\n"
        f"Types: deb\nURIs: {MIRROR}/\nSuites: bookworm bookworm-updates\nComponents: main\n",
    )
    assert provision.debian_mirror(tmp_path) == MIRROR


def test_the_mirror_comes_from_a_one_line_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        "sources.list",
        "# a comment\ndeb http://security.invalid/debian-security bookworm-security main\n"
        f"deb [arch=amd64] {MIRROR} bookworm main\n",
    )
    assert provision.debian_mirror(tmp_path) == MIRROR


def test_no_configured_mirror_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, "sources.list.d/other.sources", "Types: deb-src\nURIs: http://src.invalid\n")
    with pytest.raises(provision.ProvisionError, match="no Debian mirror in apt's sources"):
        provision.debian_mirror(tmp_path)

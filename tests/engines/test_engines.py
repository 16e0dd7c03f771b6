"""Each provisioned engine starts headless, runs a trivial program and exits as told."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from tools.engines import provision

from tests.engines.engines import HEADLESS, PY311_FIX, Engine, locate, renpy_game_copy, require

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

QUIT_SCRIPT = """\
label main_menu:
    $ renpy.quit(status=7)
"""


def test_renpy_starts_headless_and_quits_with_status(renpy: Engine, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "game").mkdir(parents=True)
    (source / "game" / "script.rpy").write_text(QUIT_SCRIPT, encoding="utf-8")
    game = renpy_game_copy(renpy, source, tmp_path / "copy")
    assert (game / "game" / "00neuro_bridge_test_py311_fix.rpy").exists() == (
        renpy.name == "renpy80"
    )
    done = renpy.run([str(game)], extra_env={"HOME": str(tmp_path)})
    assert done.returncode == 7, done.stdout + done.stderr
    assert not (source / "game" / "cache").exists()  # the source stays clean


def test_godot_runs_a_script_headless(godot: Engine, tmp_path: Path) -> None:
    script = tmp_path / "smoke.gd"
    script.write_text(
        'extends SceneTree\n\n\nfunc _init() -> void:\n\tprint("neuro-bridge smoke")\n\tquit(5)\n',
        encoding="utf-8",
    )
    done = godot.run(["--script", str(script)], extra_env={"HOME": str(tmp_path)})
    assert done.returncode == 5, done.stdout + done.stderr
    assert "neuro-bridge smoke" in done.stdout
    assert godot.version.startswith("4.")


def test_missing_engine_skips_outside_ci_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEURO_BRIDGE_ENGINES", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"provision\.py godot"):
        require("godot")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs the real engine"):
        require("godot")


def test_half_provisioned_folder_is_not_taken_as_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEURO_BRIDGE_ENGINES", str(tmp_path))
    (tmp_path / "renpy83").mkdir()  # e.g. left by a crash before the stamp
    assert provision.read_stamp(tmp_path / "renpy83") is None
    (tmp_path / "renpy83" / provision.STAMP).write_text('{"name": "renpy83"}', encoding="utf-8")
    assert provision.read_stamp(tmp_path / "renpy83") is None


def test_headless_environment_is_complete() -> None:
    assert HEADLESS["renpy83"]["RENPY_PERFORMANCE_TEST"] == "0"
    assert HEADLESS["renpy80"]["RENPY_RENDERER"] == "sw"
    assert PY311_FIX.exists()
    with pytest.raises(ValueError, match="unknown engine"):
        locate("unity")


def test_a_changed_package_list_provisions_again() -> None:
    info: provision.EngineInfo = {
        "name": "godot",
        "version": "4.6",
        "argv": ["godot"],
        "env": {},
        "launcher": "godot",
    }
    assert provision.is_current("godot", info)  # stamps from before the lists count
    info["packages"] = list(provision.PACKAGES["godot"])
    assert provision.is_current("godot", info)
    info["packages"] = ["godot", "something-new"]
    assert not provision.is_current("godot", info)

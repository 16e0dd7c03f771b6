"""The Godot addon and its sample on real Godot 4 (headless), against the stand-in Neuro.

The addon's wire is the Neuro game API itself, so the sample connects straight to
:class:`~neuro_bridge.mock.MockNeuro` on a free port (``NEURO_SDK_WS_URL``).  Every
run uses a copy of the sample with the addon installed by
:func:`neuro_bridge.installers.godot_addon.install` (Godot writes ``.godot/`` into a project).
Without Godot these tests fail in CI and skip elsewhere (see ``engines.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trio

from neuro_bridge.installers.godot_addon import (
    AUTOLOAD_NAME,
    addon_version,
    enable_in_project_file,
    install,
)
from neuro_bridge.mock import ChaosKind, MockConfig, MockNeuro

if TYPE_CHECKING:
    from neuro_bridge.mock.session import MockSession
    from tests.engines.engines import Engine

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "plugins" / "godot" / "addons" / "neuro_bridge"
SAMPLE = REPO / "sample_games" / "godot_tic_tac_toe"
ADDON_SCRIPTS = sorted(ADDON.rglob("*.gd"))
SAMPLE_SCRIPTS = sorted(SAMPLE.glob("*.gd"))
ADDON_TESTS = Path(__file__).with_name("godot") / "addon_tests.gd"
FORCE_VECTORS = REPO / "tests" / "vectors" / "force_queue.json"
PROBE_SCRIPTS = sorted((Path(__file__).with_name("godot") / "probe").glob("*.gd"))

#: What Godot prints for a script that does not parse or compile (warnings made
#: errors included).
SCRIPT_FAILURE_MARKERS = ("SCRIPT ERROR", "Parse Error", "Compile Error")

#: Every probe except the shutdown requests (the sample quits on those).
CHAOS = [
    kind
    for kind in ChaosKind
    if kind not in (ChaosKind.SHUTDOWN_GRACEFUL, ChaosKind.SHUTDOWN_IMMEDIATE)
]

#: Every GDScript warning Godot 4.6 has, made an error, except the discarded return
#: value (it flags every ignored ``Array.append``): a host project may be this strict.
STRICT_WARNINGS = """
[debug]

gdscript/warnings/directory_rules={}
gdscript/warnings/untyped_declaration=2
gdscript/warnings/inferred_declaration=2
gdscript/warnings/unsafe_property_access=2
gdscript/warnings/unsafe_method_access=2
gdscript/warnings/unsafe_cast=2
gdscript/warnings/unsafe_call_argument=2
gdscript/warnings/unsafe_void_return=2
gdscript/warnings/unassigned_variable=2
gdscript/warnings/unassigned_variable_op_assign=2
gdscript/warnings/unused_variable=2
gdscript/warnings/unused_local_constant=2
gdscript/warnings/unused_private_class_variable=2
gdscript/warnings/unused_parameter=2
gdscript/warnings/unused_signal=2
gdscript/warnings/shadowed_variable=2
gdscript/warnings/shadowed_variable_base_class=2
gdscript/warnings/shadowed_global_identifier=2
gdscript/warnings/unreachable_code=2
gdscript/warnings/unreachable_pattern=2
gdscript/warnings/standalone_expression=2
gdscript/warnings/standalone_ternary=2
gdscript/warnings/incompatible_ternary=2
gdscript/warnings/static_called_on_instance=2
gdscript/warnings/redundant_await=2
gdscript/warnings/missing_await=2
gdscript/warnings/integer_division=2
gdscript/warnings/narrowing_conversion=2
gdscript/warnings/int_as_enum_without_cast=2
gdscript/warnings/int_as_enum_without_match=2
gdscript/warnings/enum_variable_without_default=2
gdscript/warnings/deprecated_keyword=2
gdscript/warnings/confusable_identifier=2
gdscript/warnings/confusable_local_declaration=2
gdscript/warnings/confusable_local_usage=2
gdscript/warnings/confusable_capture_reassignment=2
gdscript/warnings/inference_on_variant=2
gdscript/warnings/native_method_override=2
gdscript/warnings/property_used_as_function=2
gdscript/warnings/constant_used_as_function=2
gdscript/warnings/function_used_as_property=2
"""


def script_failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if any(m in line for m in SCRIPT_FAILURE_MARKERS)]


def import_project(engine: Engine, project: Path) -> None:
    """Let Godot scan the project once (it registers the global class names)."""
    done = engine.run(["--path", str(project), "--import"], timeout=300)
    assert not script_failures(done.stdout + done.stderr), done.stdout + done.stderr


def sample_copy(engine: Engine, destination: Path) -> Path:
    """Copy the sample to *destination*, install the addon into it, import it."""
    shutil.copytree(SAMPLE, destination, ignore=shutil.ignore_patterns(".godot", "addons"))
    install(destination)
    import_project(engine, destination)
    return destination


# --------------------------------------------------------------------- static checks


@pytest.mark.parametrize("tool", ["gdtoolkit.parser", "gdtoolkit.linter"])
def test_every_script_passes_gdtoolkit(tool: str) -> None:
    scripts = [*ADDON_SCRIPTS, *SAMPLE_SCRIPTS, ADDON_TESTS, *PROBE_SCRIPTS]
    assert len(ADDON_SCRIPTS) >= 8
    done = subprocess.run(
        [sys.executable, "-m", tool, *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def strict_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    """A project with the addon, the addon's unit tests, and every warning an error."""
    from tests.engines.engines import require

    godot = require("godot")
    project = tmp_path_factory.mktemp("strict")
    (project / "project.godot").write_text(
        'config_version=5\n\n[application]\n\nconfig/name="Strict"\n'
        + STRICT_WARNINGS
        + "\n[neuro_bridge]\n\nconnection/connect_on_start=false\n",
        encoding="utf-8",
    )
    install(project)
    shutil.copyfile(ADDON_TESTS, project / ADDON_TESTS.name)
    shutil.copyfile(FORCE_VECTORS, project / FORCE_VECTORS.name)
    import_project(godot, project)
    return godot, project


def test_addon_scripts_pass_godots_check_under_the_strictest_warnings(
    strict_project: tuple[Engine, Path],
) -> None:
    godot, project = strict_project
    for script in ADDON_SCRIPTS:
        res = "res://addons/neuro_bridge/" + script.relative_to(ADDON).as_posix()
        done = godot.run(["--path", str(project), "--check-only", "--script", res], timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert not script_failures(output), output


def test_addon_unit_tests_pass_in_godot(strict_project: tuple[Engine, Path]) -> None:
    """tests/engines/godot/addon_tests.gd: windows, forces, answers, the schema check."""
    godot, project = strict_project
    done = godot.run(["--path", str(project), "--script", "res://" + ADDON_TESTS.name])
    output = done.stdout + done.stderr
    assert not script_failures(output), output
    assert done.returncode == 0, output
    passed = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert len(passed) >= 12, output
    assert "0 failed" in done.stdout, output
    # The force queue follows the rule both runtimes share (tests/vectors/force_queue.json).
    assert "ok test_the_shared_force_queue_vectors" in done.stdout, output


def test_addon_declares_prefixed_global_classes_only() -> None:
    class_names = []
    for script in ADDON_SCRIPTS:
        for line in script.read_text(encoding="utf-8").splitlines():
            if line.startswith("class_name "):
                class_names.append(line.split()[1])
        for line in script.read_text(encoding="utf-8").splitlines():
            assert not line.startswith(" "), f"{script.name}: indent with tabs: {line!r}"
    assert sorted(class_names) == [
        "NeuroBridgeAction",
        "NeuroBridgeActionWindow",
        "NeuroBridgeResult",
    ]
    assert AUTOLOAD_NAME not in class_names


# --------------------------------------------------------------------- install


def test_install_copies_the_addon_and_enables_it(tmp_path: Path) -> None:
    project = tmp_path / "game"
    project.mkdir()
    original = (
        '; my game\nconfig_version=5\n\n[application]\n\nconfig/name="Mine"\n\n'
        '[autoload]\n\nMusic="*res://music.gd"\n\n'
        '[editor_plugins]\n\nenabled=PackedStringArray("res://addons/other/plugin.cfg")\n'
    )
    (project / "project.godot").write_text(original, encoding="utf-8")
    target = install(project)
    assert target == project / "addons" / "neuro_bridge"
    assert sorted(p.name for p in target.rglob("*.gd")) == sorted(p.name for p in ADDON_SCRIPTS)
    text = (project / "project.godot").read_text(encoding="utf-8")
    assert text.startswith("; my game\n")
    assert 'Music="*res://music.gd"' in text
    assert 'NeuroBridge="*res://addons/neuro_bridge/neuro_bridge.gd"' in text
    assert (
        'enabled=PackedStringArray("res://addons/other/plugin.cfg",'
        ' "res://addons/neuro_bridge/plugin.cfg")'
    ) in text
    install(project)  # again: same result, the addon replaced in place
    assert (project / "project.godot").read_text(encoding="utf-8") == text


def test_install_with_a_sidecar_sets_the_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuro_bridge import cli

    project = tmp_path / "game"
    project.mkdir()
    (project / "project.godot").write_text("config_version=5\n", encoding="utf-8")
    assert cli.main(["godot", "install", str(project), "--sidecar"]) == 0
    assert f"the game starts its sidecar with {sys.executable}" in capsys.readouterr().out
    text = (project / "project.godot").read_text(encoding="utf-8")
    python = sys.executable.replace("\\", "\\\\")
    assert f'[neuro_bridge]\n\nsidecar/python="{python}"\n' in text
    assert cli.main(["godot", "install", str(project), "--sidecar", sys.executable]) == 0
    assert (project / "project.godot").read_text(encoding="utf-8") == text


def test_install_refuses_a_sidecar_python_without_neuro_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuro_bridge import cli

    (tmp_path / "project.godot").write_text("config_version=5\n", encoding="utf-8")
    for python in ("/no/such/python", "false"):
        assert cli.main(["godot", "install", str(tmp_path), "--sidecar", python]) == 2
    err = capsys.readouterr().err
    assert "cannot run '/no/such/python' for the sidecar" in err
    assert "'false' cannot import neuro_bridge.proxy (no message); install neuro-bridge" in err
    assert not (tmp_path / "addons").exists()


def test_install_refuses_a_folder_without_project_godot(tmp_path: Path) -> None:
    from neuro_bridge import cli

    with pytest.raises(FileNotFoundError, match="not a Godot project"):
        install(tmp_path)
    assert cli.main(["godot", "install", str(tmp_path)]) == 2


# --------------------------------------------------------------------- pack


def test_pack_writes_the_addon_in_the_asset_library_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuro_bridge import cli

    out = tmp_path / "dist" / "neuro_bridge.zip"
    assert cli.main(["godot", "pack", str(out)]) == 0
    assert "AssetLib > Import" in capsys.readouterr().out
    names = zipfile.ZipFile(out).namelist()
    top = f"neuro_bridge-{addon_version(ADDON)}/"
    assert all(name.startswith(top) for name in names), names  # one top folder
    inside = top + "addons/neuro_bridge/"
    packed = {n[len(inside) :] for n in names if n.startswith(inside) and not n.endswith("/")}
    wanted = {p.relative_to(ADDON).as_posix() for p in ADDON.rglob("*") if p.is_file()}
    assert packed == wanted
    assert {"LICENSE", "README.md", "plugin.cfg", "neuro_bridge.gd"} <= packed
    assert (ADDON / "LICENSE").read_text() == (REPO / "LICENSE").read_text()
    assert cli.main(["godot", "pack", str(out), "--addon", str(tmp_path)]) == 2


def test_a_packed_addon_installed_as_assetlib_does_compiles_under_strict_warnings(
    godot: Engine, tmp_path: Path
) -> None:
    """AssetLib's Import drops the zip's top folder and copies the rest into the
    project; enabling the plugin then adds the autoload.  The addon compiles cleanly."""
    from neuro_bridge.installers.godot_addon import pack

    archive = zipfile.ZipFile(pack(tmp_path / "addon.zip"))
    project = tmp_path / "game"
    for member in archive.infolist():
        relative = member.filename.split("/", 1)[1]
        if relative and not member.is_dir():
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_bytes(archive.read(member))
    text = 'config_version=5\n\n[application]\n\nconfig/name="Imported"\n' + STRICT_WARNINGS
    (project / "project.godot").write_text(enable_in_project_file(text), encoding="utf-8")
    import_project(godot, project)
    for script in ("neuro_bridge.gd", "plugin.gd", "action_window.gd"):
        res = "res://addons/neuro_bridge/" + script
        done = godot.run(["--path", str(project), "--check-only", "--script", res], timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert not script_failures(output), output


# --------------------------------------------------------------------- the sample, played


async def play_sample(
    engine: Engine, project: Path, mock: MockNeuro, *, games: int
) -> subprocess.CompletedProcess[bytes]:
    command = engine.command(
        "--path", str(project), "--quit-after", "20000", "--", "--autoplay", "--games", str(games)
    )
    return await trio.run_process(
        command,
        env=engine.environ({"NEURO_SDK_WS_URL": mock.url}),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )


def chaos_config() -> MockConfig:
    """The stand-in playing at once, with unforced actions and every probe in CHAOS."""
    return MockConfig(
        host="127.0.0.1",
        port=0,
        force_delay=0.0,
        unforced_rate=2.0,
        chaos=CHAOS,
        chaos_interval=0.05,
        # Probes that expect no answer are judged at once: one sent just before the
        # game's normal quit would otherwise count as "disconnected".
        chaos_grace=0.0,
        seed=7,
    )


async def test_stand_in_neuro_plays_the_sample_to_the_end_strictly(
    godot: Engine, tmp_path: Path
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    mock = MockNeuro(chaos_config())
    with trio.fail_after(240):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            done = await play_sample(godot, project, mock, games=3)
            with trio.fail_after(10):
                await mock.wait_all_disconnected()
            mock.stop()
    stdout = done.stdout.decode()
    output = stdout + done.stderr.decode()
    assert done.returncode == 0, output
    assert not script_failures(output), output
    assert "[tic-tac-toe] done: 3 games" in stdout, output
    assert mock.findings == [], mock.summary()
    (session,) = mock.sessions
    assert not session.connected  # Godot quitting closed the connection
    assert session.game == "Tic Tac Toe"
    assert session.commands()[0] == "startup"
    # Every hostile probe was answered correctly (they would be findings otherwise) ...
    kinds = {outcome.kind for outcome in mock.chaos_outcomes}
    assert {ChaosKind.INVALID_JSON, ChaosKind.WRONG_TYPE, ChaosKind.UNKNOWN_ACTION} <= kinds
    assert all(outcome.ok for outcome in mock.chaos_outcomes)
    # ... and no action the addon refused reached the game.
    assert_only_successes_reached_the_game(stdout, session)


def assert_only_successes_reached_the_game(output: str, session: MockSession) -> None:
    """The game's handlers ran exactly for the actions Neuro saw succeed (3 plays or more).

    Reads the sample's ``answered NAME ID: success|failure`` and ``Neuro's NAME
    reached the game`` lines from *output*.
    """
    answered = [line.split() for line in output.splitlines() if "[tic-tac-toe] answered " in line]
    successes = {words[3].rstrip(":"): words[2] for words in answered if words[4] == "success"}
    assert {r.id for r in session.results if r.success} == set(successes), output
    for name in ("play", "say"):
        reached = output.count(f"[tic-tac-toe] Neuro's {name} reached the game")
        assert reached == list(successes.values()).count(name), output
    assert list(successes.values()).count("play") >= 3


def shutdown_sample_config() -> MockConfig:
    return MockConfig(host="127.0.0.1", port=0, force_delay=0.05, seed=3)


@pytest.mark.parametrize("immediate", [False, True])
async def test_shutdown_requests_end_in_shutdown_ready(
    godot: Engine, tmp_path: Path, immediate: bool
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    mock = MockNeuro(shutdown_sample_config())
    with trio.fail_after(240):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)

            async def ask_to_shut_down() -> None:
                session = await mock.wait_for_game()
                await session.wait_for_force()
                frame: dict[str, object] = {"command": "shutdown/immediate"}
                if not immediate:
                    frame = {"command": "shutdown/graceful", "data": {"wants_shutdown": True}}
                await session.send(json.dumps(frame))

            nursery.start_soon(ask_to_shut_down)
            done = await play_sample(godot, project, mock, games=0)
            mock.stop()
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert mock.findings == [], mock.summary()
    (session,) = mock.sessions
    assert session.commands().count("shutdown/ready") == 1, output
    games = done.stdout.decode().count("over: ")
    assert games == (0 if immediate else 1), output  # graceful: the game is finished first


async def test_the_addon_reconnects_and_restores_the_game_after_neuro_restarts(
    godot: Engine, tmp_path: Path
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    with (project / "project.godot").open("a", encoding="utf-8") as file:
        file.write("connection/reconnect_seconds=0.2\n")  # under [neuro_bridge], the last section
    await play_through_a_neuro_restart(godot, project)


async def play_through_a_neuro_restart(godot: Engine, project: Path) -> None:
    """Stop the stand-in with a force in flight, start another on its port; check the
    game finishes 2 games and the new one got startup, the actions and the force."""
    first = MockNeuro(MockConfig(host="127.0.0.1", port=0, auto_play=False, seed=1))
    with trio.fail_after(240):
        async with trio.open_nursery() as nursery:
            first_gone = trio.Event()

            async def serve_first(*, task_status: trio.TaskStatus[None]) -> None:
                await first.serve(task_status=task_status)
                first_gone.set()

            await nursery.start(serve_first)
            port = first.port

            async def restart_neuro() -> None:
                session = await first.wait_for_game()
                force = await session.wait_for_force()
                first.stop()  # Neuro goes away with a force in flight
                await first_gone.wait()  # its port is free again
                second = MockNeuro(MockConfig(host="127.0.0.1", port=port, force_delay=0.0, seed=2))
                await nursery.start(second.serve)
                restarted.append((second, force.query))

            restarted: list[tuple[MockNeuro, str]] = []
            nursery.start_soon(restart_neuro)
            done = await play_sample(godot, project, first, games=2)
            second, query = restarted[0]
            second.stop()
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert "[tic-tac-toe] done: 2 games" in done.stdout.decode(), output
    assert first.findings == [], first.summary()
    assert second.findings == [], second.summary()
    # Without being asked: startup, every current action, and the force in flight.
    messages = second.sessions[0].messages
    assert [m.command for m in messages[:3]] == ["startup", "actions/register", "actions/force"]
    assert messages[2].data["query"] == query

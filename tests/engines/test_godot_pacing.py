"""The Godot addon's frame pacer on real Godot 4 (headless): Neuro answered between frames.

A probe game (:data:`PROBE_SCRIPT`) holds one frame until the test has put an
``action`` on the addon's socket -- it asks for the action over a second websocket
(the side channel) and waits for the test's word that the action was sent -- then
lets the frame end.  The action is therefore already there when the frame's process
step ends, and the frame it is handled in shows who read it: the pacer, while it waits
for the frame's deadline (the same frame), or the addon's poll at the start of the next
frame.  The handler answers with both frame numbers, and with whether its frame had
been drawn yet (``RenderingServer.frame_pre_draw``): in a window (Xvfb) the pacer
waits after drawing.  No clock is read by the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest
import trio

from neuro_bridge.installers.godot_addon import install
from tests.engines.test_godot import STRICT_WARNINGS, import_project, script_failures
from tests.helpers import ScriptedNeuro, action_frame, scripted_neuro

if TYPE_CHECKING:
    from tests.engines.engines import Engine

#: Actions the probe asks for, one per frame it holds.
ROUNDS = 3
#: Godot's options for a window under Xvfb (OpenGL on llvmpipe, no sound card).
WINDOW_ARGS = ("--rendering-driver", "opengl3", "--audio-driver", "Dummy", "--resolution", "64x64")

PROBE_SCRIPT = """\
extends Node
## Holds one frame per round until the test has sent an action; answers each action
## with the frame that asked for it, the frame that handled it, and whether that frame
## was drawn by then.

const ROUNDS: int = {rounds}
const FRAME_SCHEMA: Dictionary = {
\t"type": "object",
\t"properties": {"frame": {"type": "integer"}},
\t"required": ["frame"],
}

var _side: WebSocketPeer = WebSocketPeer.new()
var _drawing_frame: int = -1
var _round: int = 0
var _in_flight: bool = false
var _new_max_fps: int = 0


func _ready() -> void:
\tvar args: PackedStringArray = OS.get_cmdline_user_args()
\tvar at: int = args.find("--set-max-fps")
\tif at >= 0:
\t\t_new_max_fps = args[at + 1].to_int()
\tNeuroBridge.register_action("probe", "Answer a timing probe.", FRAME_SCHEMA, _on_probe)
\tRenderingServer.frame_pre_draw.connect(_on_frame_pre_draw)
\t_side.connect_to_url(OS.get_environment("PROBE_SIDE_URL"))


func _process(_delta: float) -> void:
\t_side.poll()
\tif _in_flight or not NeuroBridge.is_connected_to_neuro():
\t\treturn
\tif _side.get_ready_state() != WebSocketPeer.STATE_OPEN:
\t\treturn
\tif _round == ROUNDS:
\t\tvar target_fps: int = NeuroBridge.frame_pacer.target_fps
\t\tprint("[probe] done: max_fps=%d target_fps=%d" % [Engine.max_fps, target_fps])
\t\tget_tree().quit()
\t\treturn
\tif _round == 1 and _new_max_fps > 0:
\t\tEngine.max_fps = _new_max_fps  # as a game changing its cap mid-run
\t_round += 1
\t_in_flight = true
\t_side.send_text(JSON.stringify({"frame": Engine.get_process_frames()}))
\t_side.poll()
\tvar give_up: int = Time.get_ticks_msec() + 60000
\twhile _side.get_available_packet_count() == 0 and Time.get_ticks_msec() < give_up:
\t\tOS.delay_usec(500)
\t\t_side.poll()
\tif _side.get_available_packet_count() > 0:
\t\t_side.get_packet()


func _on_frame_pre_draw() -> void:
\t_drawing_frame = Engine.get_process_frames()


func _on_probe(data: Dictionary) -> NeuroBridgeResult:
\tvar asked_in: int = data["frame"]
\tvar frame: int = Engine.get_process_frames()
\tvar drawn: String = "after" if _drawing_frame == frame else "before"
\t_in_flight = false
\treturn NeuroBridgeResult.success(
\t\t"asked in frame %d, handled in frame %d %s its draw" % [asked_in, frame, drawn]
\t)
""".replace("{rounds}", str(ROUNDS))

PROBE_SCENE = """\
[gd_scene load_steps=2 format=3]

[ext_resource type="Script" path="res://probe.gd" id="1"]

[node name="Probe" type="Node"]
script = ExtResource("1")
"""


@pytest.fixture(scope="module")
def probe_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    """The probe game with the addon, every warning an error, imported once."""
    from tests.engines.engines import require

    godot = require("godot")
    project = tmp_path_factory.mktemp("probe")
    (project / "project.godot").write_text(
        'config_version=5\n\n[application]\n\nconfig/name="Pacing Probe"\n'
        'run/main_scene="res://probe.tscn"\n' + STRICT_WARNINGS,
        encoding="utf-8",
    )
    (project / "probe.gd").write_text(PROBE_SCRIPT, encoding="utf-8")
    (project / "probe.tscn").write_text(PROBE_SCENE, encoding="utf-8")
    install(project)
    import_project(godot, project)
    return godot, project


async def relay_probes(neuro: ScriptedNeuro, side: ScriptedNeuro) -> None:
    """Send the action each probe asks for, then tell the probe it is on the wire."""
    game = await neuro.wait_connection(timeout=60)
    channel = await side.wait_connection(timeout=60)
    for index in range(ROUNDS):
        await channel.wait_count(index + 1, timeout=60)
        asked_in = json.loads(channel.received[index])["frame"]
        await game.send(action_frame(f"probe-{index}", "probe", {"frame": asked_in}))
        await channel.send(json.dumps({"sent": index}))


@attrs.frozen
class Probe:
    """One action: the frame that asked for it, the one that handled it, and whether the
    handling frame had been drawn when it ran."""

    asked_in: int
    handled_in: int
    after_draw: bool


async def run_probe(
    godot: Engine,
    project: Path,
    tmp_path: Path,
    *,
    pacing: bool,
    godot_args: list[str],
    window: bool = False,
) -> tuple[list[Probe], str]:
    """Run a copy of the probe (headless, or in an Xvfb window); return what each action
    showed, and the output."""
    copy = tmp_path / "probe"
    shutil.copytree(project, copy)
    if not pacing:
        (copy / "override.cfg").write_text(
            "[neuro_bridge]\n\ntiming/answer_between_frames=false\n", encoding="utf-8"
        )
    with trio.fail_after(180):
        async with scripted_neuro() as neuro, scripted_neuro() as side:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(relay_probes, neuro, side)
                args = ["--path", str(copy), "--quit-after", "100000", *godot_args]
                if window:  # a drawing window on llvmpipe, as small as it gets
                    command = ["xvfb-run", "--auto-servernum", *godot.argv, *WINDOW_ARGS, *args]
                else:
                    command = godot.command(*args)
                done = await trio.run_process(
                    command,
                    env=godot.environ(
                        {"NEURO_SDK_WS_URL": neuro.url, "PROBE_SIDE_URL": side.url + "/side"}
                    ),
                    capture_stdout=True,
                    capture_stderr=True,
                    check=False,
                )
            game = neuro.connections[0]
            for index in range(ROUNDS):
                await game.wait_for_result(f"probe-{index}")
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert not script_failures(output), output
    probes = []
    for message in game.messages():
        if message["command"] == "action/result":
            assert message["data"]["success"] is True, output
            found = re.fullmatch(
                r"asked in frame (\d+), handled in frame (\d+) (before|after) its draw",
                message["data"]["message"],
            )
            assert found, message
            probes.append(Probe(int(found[1]), int(found[2]), found[3] == "after"))
    assert len(probes) == ROUNDS, output
    return probes, output


async def test_with_a_frame_rate_cap_an_action_is_answered_before_the_next_frame(
    probe_project: tuple[Engine, Path], tmp_path: Path
) -> None:
    godot, project = probe_project
    godot_args = ["--max-fps", "30", "--", "--set-max-fps", "20"]
    probes, output = await run_probe(godot, project, tmp_path, pacing=True, godot_args=godot_args)
    assert all(probe.handled_in == probe.asked_in for probe in probes), probes
    # The pacer keeps the cap in Engine.max_fps's place, and adopted the game's new one.
    assert "[probe] done: max_fps=0 target_fps=20" in output, output


async def test_in_a_window_the_pacer_waits_after_the_frame_is_drawn(
    probe_project: tuple[Engine, Path], tmp_path: Path
) -> None:
    if shutil.which("xvfb-run") is None:
        reason = "a window needs xvfb-run (Debian package xvfb; make engines installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs it: {reason}")
        pytest.skip(reason)
    godot, project = probe_project
    godot_args = ["--max-fps", "10"]
    probes, _ = await run_probe(
        godot, project, tmp_path, pacing=True, godot_args=godot_args, window=True
    )
    # Frame 0 has no drawn frame before it, so the pacer waits before drawing there.
    later = [probe for probe in probes if probe.asked_in > 0]
    assert later, probes
    assert all(probe.handled_in == probe.asked_in and probe.after_draw for probe in later), probes


@pytest.mark.parametrize(
    ("pacing", "godot_args", "done"),
    [
        pytest.param(
            False, ["--max-fps", "30", "--", "--set-max-fps", "20"], "max_fps=20", id="setting-off"
        ),
        pytest.param(True, [], "max_fps=0", id="uncapped"),
    ],
)
async def test_without_pacing_the_action_waits_for_the_next_frame_and_max_fps_is_left_alone(
    probe_project: tuple[Engine, Path],
    tmp_path: Path,
    pacing: bool,
    godot_args: list[str],
    done: str,
) -> None:
    godot, project = probe_project
    probes, output = await run_probe(godot, project, tmp_path, pacing=pacing, godot_args=godot_args)
    assert all(probe.handled_in > probe.asked_in for probe in probes), probes
    assert f"[probe] done: {done} target_fps=0" in output, output

"""The published API surface: names and signatures the seed page fixes."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest
import trio_websocket
from libcomponent.component import Component

from neuro_bridge.api import AbstractNeuroAPI
from neuro_bridge.component import AbstractNeuroAPIComponent
from neuro_bridge.trio_ws import TrioNeuroAPI, TrioNeuroAPIComponent


def parameters(function: object) -> list[tuple[str, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [
        (p.name, p.default)
        for p in signature.parameters.values()
        if p.kind is not inspect.Parameter.KEYWORD_ONLY
    ]


def test_bases() -> None:
    assert TrioNeuroAPI.__bases__ == (AbstractNeuroAPI,)
    assert TrioNeuroAPIComponent.__bases__ == (AbstractNeuroAPIComponent, TrioNeuroAPI)
    assert issubclass(AbstractNeuroAPIComponent, Component)
    assert not inspect.isabstract(TrioNeuroAPI)
    assert not inspect.isabstract(TrioNeuroAPIComponent)


def test_trio_neuro_api_signatures() -> None:
    empty = inspect.Parameter.empty
    assert parameters(TrioNeuroAPI.__init__) == [
        ("self", empty),
        ("game_title", empty),
        ("connection", None),
    ]
    assert isinstance(inspect.getattr_static(TrioNeuroAPI, "not_connected"), property)
    assert isinstance(inspect.getattr_static(TrioNeuroAPI, "connection"), property)
    assert parameters(TrioNeuroAPI.connect) == [("self", empty), ("websocket", empty)]
    assert parameters(TrioNeuroAPI.write_to_websocket) == [("self", empty), ("data", empty)]
    assert parameters(TrioNeuroAPI.read_from_websocket) == [("self", empty)]
    for name in ("write_to_websocket", "read_from_websocket", "read_message"):
        assert inspect.iscoroutinefunction(getattr(TrioNeuroAPI, name)), name


def test_trio_neuro_api_component_signatures() -> None:
    empty = inspect.Parameter.empty
    assert parameters(TrioNeuroAPIComponent.__init__) == [
        ("self", empty),
        ("component_name", empty),
        ("game_title", empty),
        ("connection", None),
    ]
    assert parameters(TrioNeuroAPIComponent.stop) == [
        ("self", empty),
        ("code", 1000),
        ("reason", None),
    ]
    assert parameters(TrioNeuroAPIComponent.handle_connect) == [("self", empty), ("event", empty)]
    assert not inspect.iscoroutinefunction(TrioNeuroAPIComponent.websocket_connect_failed)
    for name in (
        "read_message",
        "websocket_connect_successful",
        "handle_connect",
        "stop",
        "wait_for_websocket",
    ):
        assert inspect.iscoroutinefunction(getattr(TrioNeuroAPIComponent, name)), name


def test_abstract_api_command_set() -> None:
    empty = inspect.Parameter.empty
    expected = {
        "send_startup_command": [("self", empty)],
        "send_context": [("self", empty), ("message", empty), ("silent", True)],
        "register_actions": [("self", empty), ("actions", empty)],
        "unregister_actions": [("self", empty), ("action_names", empty)],
        "send_force_action": [
            ("self", empty),
            ("state", empty),
            ("query", empty),
            ("action_names", empty),
            ("ephemeral_context", False),
            ("priority", "low"),
        ],
        "send_action_result": [
            ("self", empty),
            ("id", empty),
            ("success", empty),
            ("message", None),
        ],
        "send_shutdown_ready": [("self", empty)],
    }
    for name, params in expected.items():
        assert inspect.iscoroutinefunction(getattr(AbstractNeuroAPI, name)), name
        assert parameters(getattr(AbstractNeuroAPI, name)) == params, name


def test_component_name_and_connect_handler() -> None:
    component = TrioNeuroAPIComponent("neuro_api", "My Game")
    assert component.name == "neuro_api"
    assert component.game_title == "My Game"
    assert component.not_connected


def test_connection_type_is_trio_websocket() -> None:
    hints = TrioNeuroAPI.__init__.__annotations__
    assert "WebSocketConnection" in str(hints["connection"])
    assert trio_websocket.WebSocketConnection.__name__ == "WebSocketConnection"


@pytest.mark.parametrize(
    "module_name",
    [
        "neuro_bridge.protocol",
        "neuro_bridge.ledger",
        "neuro_bridge.schema",
        "neuro_bridge.api",
        "neuro_bridge.component",
        "neuro_bridge.trio_ws",
        "neuro_bridge.guest",
        "neuro_bridge.cli",
        "neuro_bridge.mock",
        "neuro_bridge.mock.cli",
        "neuro_bridge.mock.session",
        "neuro_bridge.mock.config",
        "neuro_bridge.mock.server",
        "neuro_bridge.mock.transcript",
        "neuro_bridge.conformance",
        "neuro_bridge.mock.chaos",
        "neuro_bridge.mock.datagen",
        "neuro_bridge.mock.hostile",
        "neuro_bridge.mock.regexgen",
        "neuro_bridge.engines.pygame",
    ],
)
def test_all_lists_real_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_importing_the_runtime_loads_no_engine() -> None:
    code = (
        "import sys, neuro_bridge, neuro_bridge.trio_ws, neuro_bridge.guest, neuro_bridge.cli;"
        "loaded = [m for m in ('pygame', 'renpy', 'pygame_sdl2') if m in sys.modules];"
        "sys.exit(f'engine imported: {loaded}' if loaded else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

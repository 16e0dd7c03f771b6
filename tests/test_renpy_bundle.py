"""``neuro-bridge renpy``: the drop-in folder, its libraries alone on old and new Pythons,
and install / uninstall into a game."""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trio

from neuro_bridge.cli import main
from neuro_bridge.installers import renpy_bundle
from neuro_bridge.installers.renpy_bundle import (
    BUNDLE_NAME,
    MANIFEST_NAME,
    BundleError,
    build_bundle,
    install,
    uninstall,
)

if TYPE_CHECKING:
    from neuro_bridge.mock import MockNeuro

GAME_SCRIPT = Path(__file__).with_name("renpy_bundle_game.py")

#: Pythons the bundle must import on: Ren'Py 8.0-8.3 SDKs, and 8.4+ SDKs.
PYTHONS = ("3.9", "3.12")


def find_python(version: str) -> str:
    """Return a Python ``version`` interpreter: pyenv's, else one on PATH (not a shim)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python"))
    on_path = shutil.which(f"python{version}")
    if on_path and "shims" not in Path(on_path).parts:
        candidates.append(Path(on_path))
    if candidates:
        return str(candidates[0])
    reason = f"no Python {version} here (neither in {pyenv} nor python{version} on PATH)"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs it: {reason}")
    pytest.skip(reason)


def test_bundle_holds_plugin_runtime_and_pure_libraries(renpy_bundle: Path) -> None:
    assert renpy_bundle.name == BUNDLE_NAME
    assert not BUNDLE_NAME.isidentifier()  # cannot shadow a vendored package
    manifest = json.loads((renpy_bundle / MANIFEST_NAME).read_text(encoding="utf-8"))
    on_disk = sorted(
        p.relative_to(renpy_bundle).as_posix() for p in renpy_bundle.rglob("*") if p.is_file()
    )
    assert sorted([*manifest["files"], MANIFEST_NAME]) == on_disk
    assert "00neuro_bridge_path.rpy" in manifest["files"]
    lib = renpy_bundle / "lib"
    for name in ("trio", "trio_websocket", "wsproto", "h11", "libcomponent", "fastjsonschema"):
        assert (lib / name).is_dir(), name
    assert (lib / "neuro_bridge" / "trio_ws.py").is_file()
    assert (lib / "neuro_bridge" / "protocol" / "_wire.py").is_file()
    assert not (lib / "neuro_bridge" / "mock").exists()
    assert not (lib / "neuro_bridge" / "conformance.py").exists()
    assert not (lib / "neuro_bridge" / "session_events.py").exists()
    assert not (lib / "neuro_bridge" / "installers").exists()
    assert not (lib / "neuro_bridge" / "cli.py").exists()
    assert not (lib / "cryptography").exists()
    assert manifest["packages"]["trio"].startswith("0.")
    assert not [p for p in lib.rglob("*") if p.suffix in {".so", ".pyd", ".pyc"}]
    assert not [name for name in manifest["files"] if name.endswith("_ren.py")]
    windows = sorted(p.name for p in (renpy_bundle / "lib-windows").glob("_cffi_backend*"))
    assert windows == ["_cffi_backend.cp312-win_amd64.pyd", "_cffi_backend.cp39-win_amd64.pyd"]
    assert (renpy_bundle / "lib-windows" / "pycparser").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("version", PYTHONS)
async def test_bundle_alone_plays_a_round_trip(
    version: str, renpy_bundle: Path, mock_neuro: MockNeuro
) -> None:
    python = find_python(version)
    lib = renpy_bundle / "lib"
    bootstrap = (
        f"import runpy, sys; sys.path.insert(0, {str(lib)!r}); "
        f"sys.argv[1:] = [{mock_neuro.url!r}]; "
        f"runpy.run_path({str(GAME_SCRIPT)!r}, run_name='__main__')"
    )
    with trio.fail_after(90):
        done = await trio.run_process(
            [python, "-I", "-S", "-c", bootstrap],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["python"] == [int(part) for part in version.split(".")]
    assert report["trio_file"].startswith(str(lib))
    assert len(report["picked"]) == 1
    [session] = [await mock_neuro.wait_for_game()]
    [result] = session.results
    assert result.success
    assert result.message == f"You picked {report['picked'][0]}."
    mock_neuro.assert_conforms()


def test_bundled_runtime_imports_only_what_is_bundled(renpy_bundle: Path) -> None:
    lib = renpy_bundle / "lib"
    for source in (lib / "neuro_bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "neuro_bridge":
                    module = lib.joinpath(*name.split("."))
                    assert module.with_suffix(".py").is_file() or module.is_dir(), (
                        f"{source.relative_to(lib)} imports {name}, left out of the bundle"
                    )


IMPORT_ALL = """
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import neuro_bridge
for module in pkgutil.walk_packages(neuro_bridge.__path__, "neuro_bridge."):
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError:
        # An engine module needs its engine (checked: its own imports are bundled).
        if not module.name.startswith("neuro_bridge.engines."):
            raise
print(sorted(sys.modules))
"""


@pytest.mark.parametrize("version", PYTHONS)
async def test_every_bundled_module_imports_alone(version: str, renpy_bundle: Path) -> None:
    python = find_python(version)
    with trio.fail_after(60):
        done = await trio.run_process(
            [python, "-I", "-S", "-c", IMPORT_ALL, str(renpy_bundle / "lib")],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()
    loaded = done.stdout.decode()
    assert "'neuro_bridge.trio_ws'" in loaded
    assert "cryptography" not in loaded


def make_game(root: Path) -> Path:
    (root / "game").mkdir(parents=True)
    (root / "game" / "script.rpy").write_text("label start:\n    return\n", encoding="utf-8")
    return root


def test_install_twice_then_uninstall_leaves_the_game_as_it_was(
    tmp_path: Path, renpy_wheels: Path
) -> None:
    game = make_game(tmp_path / "game-project")
    before = sorted(p.relative_to(game) for p in game.rglob("*"))
    folder = install(game, wheel_dir=renpy_wheels, windows=False)
    assert folder == game / "game" / BUNDLE_NAME
    first = sorted(p.relative_to(game) for p in game.rglob("*"))
    assert install(game, wheel_dir=renpy_wheels, windows=False) == folder  # idempotent
    assert sorted(p.relative_to(game) for p in game.rglob("*")) == first
    # What Ren'Py and Python make from the bundle goes too; a file of the user's stays.
    (folder / "00neuro_bridge_path.rpyc").write_bytes(b"compiled")
    (folder / "lib" / "trio" / "__pycache__").mkdir()
    (folder / "lib" / "trio" / "__pycache__" / "_core.cpython-39.pyc").write_bytes(b"")
    (folder / "my-notes.txt").write_text("mine", encoding="utf-8")
    removed = uninstall(game)
    assert folder / "00neuro_bridge_path.rpyc" in removed
    assert sorted(p.relative_to(game) for p in game.rglob("*")) == sorted(
        [*before, Path("game", BUNDLE_NAME), Path("game", BUNDLE_NAME, "my-notes.txt")]
    )
    (folder / "my-notes.txt").unlink()
    folder.rmdir()
    with pytest.raises(BundleError, match="no neuro-bridge bundle is installed"):
        uninstall(game)


def test_install_accepts_the_game_folder_itself(tmp_path: Path, renpy_wheels: Path) -> None:
    game = make_game(tmp_path / "project")
    assert install(game / "game", wheel_dir=renpy_wheels, windows=False).parent == game / "game"
    uninstall(game / "game")
    assert sorted(p.name for p in (game / "game").iterdir()) == ["script.rpy"]


def test_refuses_what_it_did_not_make(tmp_path: Path, renpy_wheels: Path) -> None:
    with pytest.raises(BundleError, match="not a Ren'Py project"):
        install(tmp_path, wheel_dir=renpy_wheels)
    game = make_game(tmp_path / "project")
    (game / "game" / BUNDLE_NAME).mkdir()
    with pytest.raises(BundleError, match="not installed by neuro-bridge"):
        install(game, wheel_dir=renpy_wheels)
    with pytest.raises(BundleError, match="not a neuro-bridge bundle"):
        build_bundle(game / "game", wheel_dir=renpy_wheels)
    with pytest.raises(BundleError, match="is not a folder"):
        build_bundle(tmp_path / "out", wheel_dir=tmp_path / "missing")
    empty = tmp_path / "empty-wheels"
    empty.mkdir()
    with pytest.raises(BundleError, match="pip could not get wheels"):
        build_bundle(tmp_path / "out", wheel_dir=empty)
    with pytest.raises(BundleError, match=r"00neuro_bridge_path\.rpy is missing"):
        build_bundle(tmp_path / "out", plugin_dir=empty)


def test_plugin_files_come_from_the_source_tree() -> None:
    plugin = renpy_bundle.default_plugin_dir()
    assert (plugin / "00neuro_bridge_path.rpy").is_file()


def test_cli_bundle_install_uninstall(
    tmp_path: Path, renpy_wheels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = ["--wheel-dir", str(renpy_wheels)]
    assert main(["renpy", "bundle", str(tmp_path / "out"), *wheels]) == 0
    assert (tmp_path / "out" / BUNDLE_NAME / "lib-windows").is_dir()
    # The wheels for offline use, from the package index (pure ones only, here).
    assert main(["renpy", "wheels", str(tmp_path / "wheels"), "--no-windows"]) == 0
    assert not list((tmp_path / "wheels").glob("cffi*"))
    game = make_game(tmp_path / "project")
    offline = ["--wheel-dir", str(tmp_path / "wheels")]
    assert main(["renpy", "install", str(game), "--no-windows", *offline]) == 0
    assert not (game / "game" / BUNDLE_NAME / "lib-windows").exists()
    assert main(["renpy", "uninstall", str(game)]) == 0
    assert main(["renpy", "uninstall", str(game)]) == 1
    out, err = capsys.readouterr()
    assert "installed" in out
    assert "no neuro-bridge bundle is installed" in err
    with pytest.raises(SystemExit):
        main(["renpy"])  # an action is required

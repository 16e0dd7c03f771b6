"""The built wheel carries the engine plugins, and a wheel install finds them.

``pyproject.toml`` maps the repository's ``plugins/`` into the package as
``neuro_bridge/plugins/``; this builds the wheel, checks what it holds, installs it
into a fresh venv (its dependencies come from this venv's site-packages through a
``.pth`` line, so nothing is downloaded) and builds a Ren'Py bundle there without
``--plugin-dir``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from neuro_bridge.installers import _plugins
from neuro_bridge.installers.renpy_bundle import BUNDLE_NAME

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run(*argv: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_wheel_ships_the_plugins_and_an_install_finds_them(
    tmp_path: Path, renpy_wheels: Path
) -> None:
    # Built from a copy: setuptools' build/ folder stays out of the checkout.
    source_tree = tmp_path / "src"
    source_tree.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, source_tree / name)
    for name in ("bridge", "plugins"):
        shutil.copytree(
            ROOT / name,
            source_tree / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", source_tree, "--no-deps", "--quiet", "-w", dist)
    (wheel,) = dist.glob("neuro_bridge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for engine in _plugins.ENGINES:
        source = ROOT / "plugins" / engine
        for path in (p for p in source.rglob("*") if p.is_file()):
            assert f"neuro_bridge/plugins/{engine}/{path.relative_to(source).as_posix()}" in names
    # The package list in pyproject.toml is explicit: every module must still get in.
    bridge = ROOT / "bridge"
    for module in (bridge / "neuro_bridge").rglob("*.py"):
        assert module.relative_to(bridge).as_posix() in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    # After the wheel's own files, so neuro_bridge comes from the wheel.
    (Path(site) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    found = run(
        python,
        "-c",
        "from neuro_bridge.installers import _plugins; print(_plugins.plugin_dir('renpy'))",
    )
    assert Path(found.strip()) == Path(site) / "neuro_bridge" / "plugins" / "renpy"
    out = tmp_path / "out"
    script: list[str | Path] = [
        "-m",
        "neuro_bridge",
        "renpy",
        "bundle",
        out,
        "--wheel-dir",
        renpy_wheels,
    ]
    run(python, *script, "--no-windows", cwd=tmp_path)
    for rpy in (ROOT / "plugins" / "renpy").glob("*.rpy"):
        assert (out / BUNDLE_NAME / rpy.name).read_bytes() == rpy.read_bytes()
    assert not (out / BUNDLE_NAME / "lib" / "neuro_bridge" / "plugins").exists()


def test_plugin_dir_refuses_an_unknown_engine() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        _plugins.plugin_dir("unity")

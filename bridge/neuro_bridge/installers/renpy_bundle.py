"""``neuro-bridge renpy``: the Ren'Py drop-in folder -- build it, install it, remove it.

The drop-in is one folder, :data:`BUNDLE_NAME`, that goes into a game's ``game/``
directory::

    neuro-bridge/
        00neuro_bridge_path.rpy   puts lib/ (and lib-windows/ on Windows) on sys.path
        *.rpy                     the rest of the plugin (plugins/renpy/)
        lib/                      the runtime and its pure-Python dependencies
        lib-windows/              cffi's compiled backend and pycparser (trio needs
                                  them on Windows only)
        bundle.json               versions, and every file the folder holds

Its name is not a Python identifier, so it can never shadow a package it vendors.
One set of libraries serves every Python a Ren'Py game runs on, 3.9 (the 8.0-8.3
SDKs) and newer (8.4+ SDKs: 3.12; Debian's builds: 3.11, 3.13): pip picks each
dependency's newest release that still supports :data:`OLDEST_PYTHON`, as a
pure-Python wheel.  ``libcomponent`` comes without ``cryptography`` (only its
encrypted-network modules, which the runtime never imports, need it).  The
stand-in Neuro (:mod:`neuro_bridge.mock`) and the developer tools stay out.

``install`` copies a fresh bundle into a game (replacing one it installed
before); ``uninstall`` removes exactly the files ``bundle.json`` lists, plus what
Ren'Py derived from them (``.rpyc``, ``__pycache__``), and leaves anything else.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import neuro_bridge
from neuro_bridge._version import __version__
from neuro_bridge.installers import _plugins

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Sequence

__all__ = [
    "BUNDLE_NAME",
    "MANIFEST_NAME",
    "OLDEST_PYTHON",
    "VENDORED",
    "WINDOWS_PYTHONS",
    "WINDOWS_VENDORED",
    "BundleError",
    "build_bundle",
    "configure_parser",
    "download_wheels",
    "find_game_folder",
    "install",
    "run",
    "uninstall",
]

logger = logging.getLogger(__name__)

#: The drop-in folder's name (not an identifier: it cannot shadow a module).
BUNDLE_NAME: Final = "neuro-bridge"
#: The file inside the bundle that records its versions and files.
MANIFEST_NAME: Final = "bundle.json"
#: The oldest Python a Ren'Py 8 game runs on; the libraries are chosen for it.
OLDEST_PYTHON: Final = "3.9"
#: The runtime's dependencies, all pure Python (distribution names).
VENDORED: Final = (
    "trio",
    "trio-websocket",
    "wsproto",
    "h11",
    "outcome",
    "sniffio",
    "sortedcontainers",
    "idna",
    "attrs",
    "exceptiongroup",
    "typing-extensions",
    "fastjsonschema",
    "libcomponent",
)
#: What trio needs on Windows only: cffi (compiled) and its parser.
WINDOWS_VENDORED: Final = ("cffi", "pycparser")
#: The Pythons of Ren'Py's Windows SDKs (8.0-8.3 and 8.4+) that get cffi's backend.
WINDOWS_PYTHONS: Final = ("3.9", "3.12")
WINDOWS_PLATFORM: Final = "win_amd64"

#: Parts of the neuro_bridge package that a game does not need.
_RUNTIME_EXCLUDED: Final = frozenset(
    {
        "mock",
        "conformance.py",
        "session_events.py",
        "installers",
        "plugins",
        "demo.py",
        "cli.py",
        "__main__.py",
        "proxy.py",
    }
)
_PATH_RPY: Final = "00neuro_bridge_path.rpy"
_LIB: Final = "lib"
_WINDOWS_LIB: Final = "lib-windows"
_PURE_WHEEL: Final = re.compile(r"-(?:py\d+\.?)+-none-any\.whl$")


class BundleError(Exception):
    """The bundle could not be built, installed or removed; the message says why."""


# --- building ----------------------------------------------------------------------


def default_plugin_dir() -> Path:
    """Return the Ren'Py plugin's folder: in the installed package, else the source tree.

    Raises:
        BundleError: the plugin's ``.rpy`` files are in neither place.
    """
    try:
        candidate = _plugins.plugin_dir("renpy")
    except _plugins.PluginNotFoundError as error:
        raise BundleError(f"{error}; pass --plugin-dir with the plugins/renpy folder") from None
    if not (candidate / _PATH_RPY).is_file():
        raise BundleError(
            f"the Ren'Py plugin's {_PATH_RPY} is missing from {candidate}; "
            "pass --plugin-dir with the plugins/renpy folder"
        )
    return candidate


def _pip_download(
    specs: Sequence[str],
    dest: Path,
    *,
    python: str,
    platform: str | None = None,
    wheel_dir: Path | None = None,
) -> list[Path]:
    """Download wheels for ``specs`` (no dependencies) for ``python`` into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.iterdir())
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    argv += ["--only-binary=:all:", "--python-version", python, "--dest", str(dest)]
    if platform is not None:
        argv += ["--platform", platform]
    if wheel_dir is not None:
        argv += ["--no-index", "--find-links", str(wheel_dir)]
    logger.info(
        "pip download for Python %s%s: %s", python, f" {platform}" if platform else "", specs
    )
    done = subprocess.run([*argv, *specs], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        where = f"in {wheel_dir}" if wheel_dir is not None else "from the package index"
        raise BundleError(
            f"pip could not get wheels for Python {python} {where}: "
            + (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        )
    return sorted(set(dest.iterdir()) - before)


def _extract(wheel: Path, target: Path) -> None:
    """Unpack ``wheel`` into ``target``, leaving out tests, byte code and ``.data``."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = member.filename.split("/")
            if (
                member.is_dir()
                or parts[0].endswith(".data")
                or "__pycache__" in parts
                or any(part in {"_tests", "tests"} for part in parts[1:-1])
            ):
                continue
            if ".." in parts or member.filename.startswith("/"):
                raise BundleError(
                    f"{wheel.name} holds a path outside its folder: {member.filename}"
                )
            archive.extract(member, target)


def _copy_runtime(lib: Path) -> None:
    """Copy the neuro_bridge package into ``lib`` without the parts games do not need."""
    package = Path(neuro_bridge.__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        relative = source.relative_to(package)
        if relative.parts[0] in _RUNTIME_EXCLUDED or relative.as_posix() in _RUNTIME_EXCLUDED:
            continue
        destination = lib / "neuro_bridge" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    info = lib / f"neuro_bridge-{__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: neuro-bridge\nVersion: {__version__}\n"
        "Summary: The neuro-bridge runtime, as vendored into a Ren'Py game\n",
        encoding="utf-8",
    )


def _distribution(wheel: Path) -> tuple[str, str]:
    """Return ``(normalised distribution name, version)`` from a wheel's file name."""
    name, version = wheel.name.split("-")[:2]
    return name.lower().replace("_", "-"), version


def _fetch(
    scratch: Path, *, windows: bool, wheel_dir: Path | None
) -> tuple[list[Path], list[Path]]:
    """Download the wheels of :data:`VENDORED` (and, if ``windows``, :data:`WINDOWS_VENDORED`).

    Returns:
        The pure-Python wheels, and the Windows wheels: one release of each
        Windows package (the newest for :data:`WINDOWS_PYTHONS`' oldest), with a
        wheel per Windows Python for the compiled ones.

    Raises:
        BundleError: pip failed, or a dependency has no pure-Python wheel.
    """
    pure = _pip_download(VENDORED, scratch / "pure", python=OLDEST_PYTHON, wheel_dir=wheel_dir)
    for wheel in pure:
        if not _PURE_WHEEL.search(wheel.name):
            raise BundleError(f"{wheel.name} is not pure Python; Ren'Py games cannot load it")
    native: list[Path] = []
    releases: dict[str, str] = {}
    for python in WINDOWS_PYTHONS if windows else ():
        specs = [
            f"{name}=={releases[name]}" if name in releases else name for name in WINDOWS_VENDORED
        ]
        for wheel in _pip_download(
            specs,
            scratch / f"windows-{python}",
            python=python,
            platform=WINDOWS_PLATFORM,
            wheel_dir=wheel_dir,
        ):
            name, version = _distribution(wheel)
            if name not in releases or not _PURE_WHEEL.search(wheel.name):
                native.append(wheel)
            releases.setdefault(name, version)
    return pure, native


def download_wheels(
    dest: Path, *, windows: bool = True, wheel_dir: Path | None = None
) -> list[Path]:
    """Download every wheel a bundle is built from into ``dest``; return them.

    ``dest`` can then be given as ``wheel_dir`` to build bundles offline.

    Raises:
        BundleError: pip failed, or a dependency has no pure-Python wheel.
    """
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neuro-bridge-wheels-") as scratch:
        pure, native = _fetch(Path(scratch), windows=windows, wheel_dir=wheel_dir)
        return [Path(shutil.copy2(wheel, dest)) for wheel in (*pure, *native)]


def _listing(folder: Path) -> list[str]:
    """Return every file under ``folder``, relative, with ``/`` separators, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def build_bundle(
    out_dir: Path,
    *,
    wheel_dir: Path | None = None,
    plugin_dir: Path | None = None,
    windows: bool = True,
) -> Path:
    """Build the drop-in folder ``out_dir/neuro-bridge`` and return its path.

    Args:
        out_dir: where the folder goes (created if missing).  A bundle built there
            before is replaced; any other ``neuro-bridge`` folder is refused.
        wheel_dir: take the wheels from this folder only (offline use); by default
            pip downloads them from the configured package index.
        plugin_dir: the folder holding the plugin's ``.rpy`` files (default:
            :func:`default_plugin_dir`).
        windows: also vendor cffi for Windows (``lib-windows/``).

    Raises:
        BundleError: a wheel is missing or not pure Python, the plugin files are
            missing, or the target is a folder this command did not make.
    """
    plugin_dir = plugin_dir if plugin_dir is not None else default_plugin_dir()
    scripts = sorted(plugin_dir.glob("*.rpy"))
    if not any(script.name == _PATH_RPY for script in scripts):
        raise BundleError(f"{plugin_dir} does not hold the plugin ({_PATH_RPY} is missing)")
    if wheel_dir is not None and not wheel_dir.is_dir():
        raise BundleError(f"--wheel-dir {wheel_dir} is not a folder")
    target = out_dir / BUNDLE_NAME
    if target.exists() and not (target / MANIFEST_NAME).is_file():
        raise BundleError(f"{target} exists and is not a neuro-bridge bundle; not touching it")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".neuro-bridge-", dir=out_dir) as temp:
        staging = Path(temp) / BUNDLE_NAME
        lib = staging / _LIB
        lib.mkdir(parents=True)
        for script in scripts:
            shutil.copyfile(script, staging / script.name)
        _copy_runtime(lib)
        pure, native = _fetch(Path(temp) / "wheels", windows=windows, wheel_dir=wheel_dir)
        for wheel in pure:
            _extract(wheel, lib)
        for wheel in native:
            _extract(wheel, staging / _WINDOWS_LIB)
        files = _listing(staging)
        clashing = [name for name in files if name.endswith("_ren.py")]
        if clashing:  # Ren'Py 8.1+ would load these as scripts
            raise BundleError(f"vendored files Ren'Py would take for scripts: {clashing}")
        manifest = {
            "neuro_bridge": __version__,
            "python": f">={OLDEST_PYTHON}",
            "packages": dict(map(_distribution, pure)),
            "windows_packages": dict(map(_distribution, native)),
            "files": files,
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    logger.info("built %s (%d files)", target, len(files) + 1)
    return target


# --- installing into a game ----------------------------------------------------------


def find_game_folder(game_dir: Path) -> Path:
    """Return the ``game/`` folder of a Ren'Py project (or ``game_dir`` if it is one).

    Raises:
        BundleError: ``game_dir`` is neither a Ren'Py project nor its ``game/``.
    """
    if (game_dir / "game").is_dir():
        return game_dir / "game"
    if game_dir.name == "game" and game_dir.is_dir():
        return game_dir
    raise BundleError(f"{game_dir} is not a Ren'Py project: it has no game/ folder")


def _read_manifest(bundle: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((bundle / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{bundle / MANIFEST_NAME} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise BundleError(f"{bundle / MANIFEST_NAME} is not a neuro-bridge manifest")
    return manifest


def install(
    game_dir: Path,
    *,
    wheel_dir: Path | None = None,
    plugin_dir: Path | None = None,
    windows: bool = True,
) -> Path:
    """Build the bundle and put it into the game at ``game_dir``; return its folder.

    Installing again replaces the bundle installed before (idempotent).  The
    arguments are :func:`build_bundle`'s.

    Raises:
        BundleError: not a Ren'Py project, ``game/neuro-bridge`` exists but was
            not installed by this command, or the bundle cannot be built.
    """
    game = find_game_folder(game_dir)
    target = game / BUNDLE_NAME
    if target.exists() and not (target / MANIFEST_NAME).is_file():
        raise BundleError(f"{target} exists and was not installed by neuro-bridge; not touching it")
    with tempfile.TemporaryDirectory(prefix="neuro-bridge-bundle-") as temp:
        built = build_bundle(
            Path(temp), wheel_dir=wheel_dir, plugin_dir=plugin_dir, windows=windows
        )
        if target.exists():
            uninstall(game_dir)
        shutil.copytree(built, target, dirs_exist_ok=True)
    logger.info("installed %s", target)
    return target


def _derived(files: Iterable[str]) -> set[str]:
    """Return what Ren'Py makes from ``files``: the compiled ``.rpyc`` of each script."""
    return {name + "c" for name in files if name.endswith(".rpy")}


def uninstall(game_dir: Path) -> list[Path]:
    """Remove the bundle installed into ``game_dir``; return the files removed.

    Removes exactly the files ``bundle.json`` lists, the manifest, the ``.rpyc``
    Ren'Py compiled from the bundle's scripts and byte-code caches, then the
    folders left empty.  Anything else in the folder stays (and is logged).

    Raises:
        BundleError: no bundle is installed there.
    """
    game = find_game_folder(game_dir)
    bundle = game / BUNDLE_NAME
    if not (bundle / MANIFEST_NAME).is_file():
        raise BundleError(f"no neuro-bridge bundle is installed in {game}")
    listed = _read_manifest(bundle)["files"]
    removed: list[Path] = []
    for name in sorted({*map(str, listed), *_derived(map(str, listed)), MANIFEST_NAME}):
        path = bundle / name
        if ".." in Path(name).parts or not path.is_file():
            continue
        path.unlink()
        removed.append(path)
    for cache in sorted(bundle.rglob("__pycache__"), reverse=True):
        removed.extend(sorted(cache.iterdir()))
        shutil.rmtree(cache)
    for folder in sorted((p for p in bundle.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if any(bundle.iterdir()):
        logger.warning("left in %s (not installed by neuro-bridge): %s", bundle, _listing(bundle))
    else:
        bundle.rmdir()
    return removed


# --- the subcommand ------------------------------------------------------------------


def _add_windows_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-windows",
        dest="windows",
        action="store_false",
        help="leave out cffi for Windows (lib-windows/)",
    )


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        help="take the wheels from this folder only (offline); default: the package index",
    )
    parser.add_argument(
        "--plugin-dir",
        type=Path,
        help="the plugin's .rpy files (default: plugins/renpy of this source tree)",
    )
    _add_windows_option(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``bundle``, ``install``, ``uninstall`` and ``wheels`` actions to ``parser``."""
    actions = parser.add_subparsers(dest="renpy_command", metavar="ACTION", required=True)
    bundle = actions.add_parser(
        "bundle",
        help=f"build the drop-in folder OUT_DIR/{BUNDLE_NAME} to copy into a game's game/",
    )
    bundle.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    _add_build_options(bundle)
    install_parser = actions.add_parser(
        "install", help=f"build the bundle and put it into GAME_DIR/game/{BUNDLE_NAME}"
    )
    install_parser.add_argument("game_dir", metavar="GAME_DIR", type=Path)
    _add_build_options(install_parser)
    remove = actions.add_parser("uninstall", help="remove exactly what install added")
    remove.add_argument("game_dir", metavar="GAME_DIR", type=Path)
    wheels = actions.add_parser(
        "wheels", help="download the wheels a bundle is built from, for --wheel-dir offline"
    )
    wheels.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    _add_windows_option(wheels)


def run(args: argparse.Namespace) -> int:
    """Run ``neuro-bridge renpy ACTION``; return the exit status."""
    try:
        if args.renpy_command == "uninstall":
            removed = uninstall(args.game_dir)
            print(f"removed {len(removed)} files from {args.game_dir}")
        elif args.renpy_command == "wheels":
            wheels = download_wheels(args.out_dir, windows=args.windows)
            print(f"downloaded {len(wheels)} wheels into {args.out_dir}")
        elif args.renpy_command == "bundle":
            folder = build_bundle(
                args.out_dir,
                wheel_dir=args.wheel_dir,
                plugin_dir=args.plugin_dir,
                windows=args.windows,
            )
            print(f"built {folder}: copy it into your game's game/ folder")
        else:
            folder = install(
                args.game_dir,
                wheel_dir=args.wheel_dir,
                plugin_dir=args.plugin_dir,
                windows=args.windows,
            )
            print(f"installed {folder}")
    except BundleError as exc:
        print(f"neuro-bridge renpy: {exc}", file=sys.stderr)
        return 1
    return 0

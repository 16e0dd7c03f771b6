"""``neuro-bridge godot install|pack``: the Godot addon into a project, or into a zip.

:func:`install` copies ``addons/neuro_bridge`` into the project and edits its
``project.godot`` the way the editor does when the plugin is enabled: the
``NeuroBridge`` autoload under ``[autoload]`` and the plugin under
``[editor_plugins] enabled``.  Every other line of the file is kept as it was, and
running it again updates the addon in place (idempotent).  With *sidecar_python*
(``--sidecar [PYTHON]``) it also sets ``neuro_bridge/sidecar/python``, so the game
starts the validating proxy as its sidecar with that Python.

:func:`pack` writes the addon as a zip in the Asset Library's layout (one top folder
holding ``addons/neuro_bridge``, its ``LICENSE`` and ``README.md`` inside), which the
editor's AssetLib *Import* installs.

**Where the addon comes from.**  It lives in the repository's
``plugins/godot/addons/neuro_bridge``, which the wheel carries inside the package
(found by ``neuro_bridge.installers._plugins.plugin_dir``; in a clone or an
editable install, the repository's folder); ``$NEURO_BRIDGE_GODOT_ADDON`` (or ``--addon``)
points elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

from neuro_bridge.installers import _plugins

if TYPE_CHECKING:
    import argparse

__all__ = [
    "ADDON_DIR_VARIABLE",
    "AUTOLOAD_NAME",
    "SIDECAR_PYTHON_SETTING",
    "NotAGodotProjectError",
    "check_sidecar_python",
    "configure_parser",
    "enable_in_project_file",
    "find_addon_dir",
    "install",
    "pack",
    "run",
]

#: Environment variable naming the addon folder (the one holding ``plugin.cfg``).
ADDON_DIR_VARIABLE: Final = "NEURO_BRIDGE_GODOT_ADDON"
#: The autoload the addon adds; the name games call it by.
AUTOLOAD_NAME: Final = "NeuroBridge"
_ADDON_NAME: Final = "neuro_bridge"
_AUTOLOAD_VALUE: Final = f'"*res://addons/{_ADDON_NAME}/neuro_bridge.gd"'
_PLUGIN_CFG: Final = f"res://addons/{_ADDON_NAME}/plugin.cfg"
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
#: The project setting naming the sidecar's Python (section ``neuro_bridge``).
SIDECAR_PYTHON_SETTING: Final = "neuro_bridge/sidecar/python"


class NotAGodotProjectError(FileNotFoundError):
    """The folder has no ``project.godot``."""


def find_addon_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the addon folder: *explicit*, ``$NEURO_BRIDGE_GODOT_ADDON``, or the package's.

    Raises:
        FileNotFoundError: If the folder has no ``plugin.cfg``.
    """
    if explicit is not None:
        candidate = Path(explicit)
    elif os.environ.get(ADDON_DIR_VARIABLE):
        candidate = Path(os.environ[ADDON_DIR_VARIABLE])
    else:
        try:
            candidate = _plugins.plugin_dir("godot") / "addons" / _ADDON_NAME
        except _plugins.PluginNotFoundError as error:
            raise FileNotFoundError(f"{error}; set ${ADDON_DIR_VARIABLE} or pass --addon") from None
    if not (candidate / "plugin.cfg").is_file():
        raise FileNotFoundError(
            f"no Godot addon in {candidate} (no plugin.cfg); set ${ADDON_DIR_VARIABLE}"
            " or pass --addon to the folder holding the addon's plugin.cfg"
        )
    return candidate


def install(
    project_dir: str | os.PathLike[str],
    *,
    addon_dir: Path | None = None,
    sidecar_python: str | None = None,
) -> Path:
    """Copy the addon into *project_dir* and enable it in its ``project.godot``.

    An existing ``addons/neuro_bridge`` is replaced (a symbolic link there is
    removed, never followed).  With *sidecar_python* (a command or path), the
    project's ``neuro_bridge/sidecar/python`` is set to it, once it was checked to
    import neuro-bridge.  Returns the folder the addon was copied to.

    Raises:
        NotAGodotProjectError: If *project_dir* has no ``project.godot``.
        FileNotFoundError: If the addon cannot be found (see :func:`find_addon_dir`).
        ValueError: If *sidecar_python* cannot run the proxy.
    """
    project = Path(project_dir)
    project_file = project / "project.godot"
    if not project_file.is_file():
        raise NotAGodotProjectError(f"{project} is not a Godot project (no project.godot)")
    if sidecar_python is not None:
        check_sidecar_python(sidecar_python)
    source = find_addon_dir(addon_dir)
    target = project / "addons" / _ADDON_NAME
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.uid", ".*"))
    text = enable_in_project_file(project_file.read_text(encoding="utf-8"))
    if sidecar_python is not None:
        section, _, key = SIDECAR_PYTHON_SETTING.partition("/")
        lines = _set_key(text.splitlines(), section, key, _godot_string(sidecar_python))
        text = "\n".join(lines) + "\n"
    project_file.write_text(text, encoding="utf-8")
    return target


def addon_version(addon_dir: Path) -> str:
    """Return the ``version`` in the addon's ``plugin.cfg`` (``"0"`` without one)."""
    text = (addon_dir / "plugin.cfg").read_text(encoding="utf-8")
    match = re.search(r'^\s*version\s*=\s*"([^"]*)"', text, re.MULTILINE)
    return match.group(1) if match else "0"


def pack(out: str | os.PathLike[str], *, addon_dir: Path | None = None) -> Path:
    """Write the addon to the zip *out* in the Asset Library's layout; return its path.

    The zip holds one top folder, ``neuro_bridge-VERSION/`` (the editor's AssetLib
    *Import* skips it, as it does for an archive of a repository), with
    ``addons/neuro_bridge/`` inside: every file of the addon, its ``LICENSE`` and its
    ``README.md`` included.  Files Godot writes next to scripts (``*.uid``,
    ``*.import``) are left out.  An existing *out* is replaced.

    Raises:
        FileNotFoundError: If the addon cannot be found (see :func:`find_addon_dir`).
    """
    source = find_addon_dir(addon_dir)
    missing = [name for name in ("LICENSE", "README.md") if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the addon in {source} has no {' or '.join(missing)}")
    root = f"{_ADDON_NAME}-{addon_version(source)}/addons/{_ADDON_NAME}"
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(
        path
        for path in source.rglob("*")
        if path.is_file()
        and path.suffix not in (".uid", ".import")
        and "__pycache__" not in path.parts
    )
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        folders = {f"{root}/"}
        for path in files:
            relative = path.relative_to(source)
            for parent in reversed(relative.parents[:-1]):
                folders.add(f"{root}/{parent.as_posix()}/")
        parts = root.split("/")
        for depth in range(1, len(parts)):
            folders.add("/".join(parts[:depth]) + "/")
        for folder in sorted(folders):
            archive.writestr(folder, "")
        for path in files:
            archive.write(path, f"{root}/{path.relative_to(source).as_posix()}")
    return target


def check_sidecar_python(python: str) -> None:
    """Check that *python* runs and can import the proxy (``neuro_bridge.proxy``).

    Raises:
        ValueError: If it cannot, with the reason.
    """
    try:
        done = subprocess.run(  # noqa: S603 -- the developer's own Python, no shell
            [python, "-c", "import neuro_bridge.proxy"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ValueError(f"cannot run {python!r} for the sidecar: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ValueError(
            f"{python!r} cannot import neuro_bridge.proxy ({last}); install neuro-bridge"
            " into that Python, or name one that has it"
        )


def _godot_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def enable_in_project_file(text: str) -> str:
    """Return ``project.godot`` *text* with the autoload and the plugin enabled.

    Other sections, keys and comments are kept; an existing ``NeuroBridge``
    autoload is pointed at the addon, and the plugin is added to the enabled
    list once.
    """
    lines = text.splitlines()
    lines = _set_key(lines, "autoload", AUTOLOAD_NAME, _AUTOLOAD_VALUE)
    enabled = _get_key(lines, "editor_plugins", "enabled")
    plugins = re.findall(r'"([^"]*)"', enabled or "")
    if _PLUGIN_CFG not in plugins:
        plugins.append(_PLUGIN_CFG)
    value = "PackedStringArray(" + ", ".join(f'"{p}"' for p in plugins) + ")"
    lines = _set_key(lines, "editor_plugins", "enabled", value)
    return "\n".join(lines) + "\n"


def _section_span(lines: list[str], section: str) -> tuple[int, int] | None:
    """Return (header index, end index) of *section*, or None."""
    start = None
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match is None:
            continue
        if start is not None:
            return start, index
        if match.group(1) == section:
            start = index
    return None if start is None else (start, len(lines))


def _get_key(lines: list[str], section: str, key: str) -> str | None:
    span = _section_span(lines, section)
    if span is None:
        return None
    for line in lines[span[0] + 1 : span[1]]:
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    return None


def _set_key(lines: list[str], section: str, key: str, value: str) -> list[str]:
    entry = f"{key}={value}"
    span = _section_span(lines, section)
    if span is None:
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        return [*lines, "", f"[{section}]", "", entry]
    start, end = span
    for index in range(start + 1, end):
        name, sep, _ = lines[index].partition("=")
        if sep and name.strip() == key:
            return [*lines[:index], entry, *lines[index + 1 :]]
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1
    if insert == start + 1:
        return [*lines[:insert], "", entry, *lines[insert:]]
    return [*lines[:insert], entry, *lines[insert:]]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``godot`` subcommands to *parser*."""
    actions = parser.add_subparsers(dest="godot_command", metavar="ACTION", required=True)
    install_parser = actions.add_parser(
        "install",
        help="copy the addon into a Godot 4 project and enable it",
        description="Copy addons/neuro_bridge into PROJECT_DIR and enable it in its"
        " project.godot (the NeuroBridge autoload and the editor plugin).",
    )
    install_parser.add_argument("project_dir", metavar="PROJECT_DIR", type=Path)
    install_parser.add_argument(
        "--addon",
        type=Path,
        help=f"the addon folder (default: ${ADDON_DIR_VARIABLE}, else the clone's)",
    )
    install_parser.add_argument(
        "--sidecar",
        nargs="?",
        const=sys.executable,
        metavar="PYTHON",
        help="make the game start the validating proxy as its sidecar with PYTHON"
        " (default: the Python running this command)",
    )
    pack_parser = actions.add_parser(
        "pack",
        help="write the addon as a zip for the editor's AssetLib Import",
        description="Write the addon, its licence and a short README as OUT (a zip in the"
        " Asset Library's layout, which Godot's AssetLib > Import installs).",
    )
    pack_parser.add_argument("out", metavar="OUT.zip", type=Path)
    pack_parser.add_argument(
        "--addon",
        type=Path,
        help=f"the addon folder (default: ${ADDON_DIR_VARIABLE}, else the clone's)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``neuro-bridge godot ...``; return the exit status (0 ok, 2 bad folder)."""
    if args.godot_command == "pack":
        try:
            written = pack(args.out, addon_dir=args.addon)
        except (FileNotFoundError, OSError) as exc:
            print(f"neuro-bridge godot pack: {exc}", file=sys.stderr)
            return 2
        print(f"wrote the addon to {written} (install it with AssetLib > Import)")
        return 0
    try:
        target = install(args.project_dir, addon_dir=args.addon, sidecar_python=args.sidecar)
    except (FileNotFoundError, ValueError) as exc:
        print(f"neuro-bridge godot install: {exc}", file=sys.stderr)
        return 2
    print(f"installed the addon in {target} and enabled it ({AUTOLOAD_NAME} autoload)")
    if args.sidecar is not None:
        print(f"the game starts its sidecar with {args.sidecar}")
    return 0

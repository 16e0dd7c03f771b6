#!/usr/bin/env python3
"""Provision the real game engines the engine tests run on (standard library only).

Targets:

``renpy80``
    Ren'Py 8.0.3 from the machine's own Debian bookworm packages
    (``apt-get install renpy renpy-thequestion renpy-demo``; needs root).  It runs on the
    system Python 3.11, which needs :file:`renpy80_py311_fix.rpy` in the test copy
    of a game (the tests' helpers add it).
``renpy83``
    Ren'Py 8.3.4 from Debian trixie, downloaded with a private apt configuration
    (nothing in ``/etc/apt`` or the dpkg database changes) and unpacked into a
    private root; it runs through that root's own dynamic loader and Python 3.13.
``godot``
    Godot 4 from Debian sid (falling back to forky), unpacked the same way.
``chromium``
    Not an engine: Debian's ``chromium`` and ``chromium-driver`` (``apt-get install``;
    needs root), the headless browser the web console's tests drive with Playwright
    (``/usr/bin/chromium``; nothing downloads a browser of its own).

Each engine ends up in ``$NEURO_BRIDGE_ENGINES`` (default
``${XDG_CACHE_HOME:-~/.cache}/neuro-bridge/engines``) as a folder holding
``engine.json`` (version, command, environment) and an executable launcher
script.  A folder is built under a temporary name and renamed when complete, so
an interrupted download is never taken for a finished one; a second run finds
the folder and returns at once.  A lock file serialises concurrent runs.

Usage::

    python3 tools/engines/provision.py [--quiet] [--force] [TARGET ...]

With no target, or ``all``, every engine is provisioned.  The exit status is 0
when every target is ready.  When a target cannot be provisioned (no root, not
Debian, no network) the status is 1 if the environment variable ``CI`` is set,
else 0 after a warning: outside CI the engine tests then skip with the reason.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

if TYPE_CHECKING:
    from collections.abc import Sequence

ENGINE_NAMES = ("renpy80", "renpy83", "godot")
#: The Debian packages each engine is made of (their dependencies come along).
#: Changing a list here makes the next run provision that engine again.
PACKAGES: dict[str, tuple[str, ...]] = {
    "renpy80": ("renpy", "renpy-thequestion", "renpy-demo"),
    "renpy83": ("renpy", "renpy-thequestion"),
    "godot": ("godot",),
}
STAMP = "engine.json"
SYSTEM_RENPY = Path("/usr/games/renpy")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
LIB_DIR = "usr/lib/x86_64-linux-gnu"
LOADER = LIB_DIR + "/ld-linux-x86-64.so.2"
#: Debian packages giving Godot a window without a display (``xvfb-run``).
WINDOW_PACKAGES = ("xvfb", "xauth")
#: Debian packages of the browser the web console's tests drive (target ``chromium``).
BROWSER_PACKAGES = ("chromium", "chromium-driver")
#: Seconds to wait for another apt/dpkg run to release the system's dpkg lock.
DPKG_LOCK_TIMEOUT = 900


logger = logging.getLogger("provision")
log = logger.info


class _EngineInfoRequired(TypedDict):
    name: str
    version: str
    argv: list[str]
    env: dict[str, str]
    launcher: str


class EngineInfo(_EngineInfoRequired, total=False):
    """What ``engine.json`` records about a provisioned engine.

    ``argv`` starts the engine (arguments follow), ``env`` is what it needs to start
    at all, ``launcher`` names the script in the engine's folder doing both.
    """

    base: str
    packages: list[str]
    needs_py311_fix: bool
    suite: str
    provisioned_at: str


class ProvisionError(Exception):
    """An engine could not be provisioned; the message says why."""


def cache_root() -> Path:
    """Return the folder that holds every provisioned engine."""
    explicit = os.environ.get("NEURO_BRIDGE_ENGINES")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "neuro-bridge" / "engines"


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; raise :class:`ProvisionError` on failure."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    except OSError as exc:
        raise ProvisionError(f"cannot run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise ProvisionError(f"{' '.join(argv[:4])} ... failed:\n  " + "\n  ".join(tail))
    return done


def check_platform() -> None:
    """Refuse machines the recipes were not made for, with the reason."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise ProvisionError(f"needs Linux on x86_64 (this is {sys.platform} {platform.machine()})")
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise ProvisionError("needs Debian's apt-get and dpkg-deb")


def write_stamp(folder: Path, info: EngineInfo) -> None:
    """Write ``engine.json`` and a launcher script into ``folder``."""
    info["provisioned_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (folder / STAMP).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    env_lines = "".join(
        f"export {key}={shell_quote(value)}\n" for key, value in info["env"].items()
    )
    argv = " ".join(shell_quote(part) for part in info["argv"])
    launcher = folder / info["launcher"]
    launcher.write_text(
        f"#!/bin/sh\n# {info['name']} {info['version']}, provisioned by neuro-bridge.\n"
        f'{env_lines}exec {argv} "$@"\n',
        encoding="utf-8",
    )
    launcher.chmod(0o755)


def shell_quote(text: str) -> str:
    """Quote ``text`` for a POSIX shell."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


# --- Ren'Py 8.0.3 from the system's own packages ---------------------------------


def installed_version(package: str) -> str | None:
    """Return the installed Debian version of ``package``, or None."""
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    status, _, version = done.stdout.partition("\t")
    return version if done.returncode == 0 and status.endswith(" installed") else None


def apt_install(packages: Sequence[str], what: str) -> None:
    """Install the Debian *packages* not installed yet with the system's apt (as root).

    Raises:
        ProvisionError: When one is missing and this is not root (*what* says why it is
            needed), or apt fails even after an ``apt-get update``.
    """
    if all(installed_version(name) for name in packages):
        return
    if os.geteuid() != 0:
        raise ProvisionError(f"{what}: run as root")
    install = [
        "apt-get",
        "-o",
        f"DPkg::Lock::Timeout={DPKG_LOCK_TIMEOUT}",
        "install",
        "-y",
        "--no-install-recommends",
        *packages,
    ]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        log("apt-get install " + " ".join(packages))
        run(install, env=env)
    except ProvisionError:
        log("apt-get update (package lists missing or stale)")
        run(["apt-get", "-o", f"DPkg::Lock::Timeout={DPKG_LOCK_TIMEOUT}", "update"], env=env)
        run(install, env=env)


def provision_renpy80(folder: Path) -> EngineInfo:
    """Install Ren'Py 8.0.3 with the system's apt and describe it."""
    apt_install(PACKAGES["renpy80"], "Ren'Py 8.0.3 comes from apt-get install renpy")
    version = installed_version("renpy") or "?"
    if not version.startswith("8.0."):
        raise ProvisionError(f"the system's renpy package is {version}, not 8.0.x")
    if not SYSTEM_RENPY.exists():
        raise ProvisionError(f"{SYSTEM_RENPY} is missing after installing renpy")
    return {
        "name": "renpy80",
        "version": version,
        "argv": [str(SYSTEM_RENPY)],
        "env": {},
        "base": "/usr/share/games/renpy",
        "launcher": "renpy",
        "needs_py311_fix": True,
    }


# --- engines unpacked privately from another Debian suite ------------------------


#: Where apt keeps the machine's package sources (deb822 ``*.sources`` and one-line
#: ``*.list`` files); the Debian mirror is read from them, never named here.
APT_SOURCES = Path("/etc/apt")


def debian_mirror(apt_dir: Path = APT_SOURCES) -> str:
    """Return the Debian mirror URI the machine's apt is configured with.

    Reads ``sources.list`` and ``sources.list.d/`` under *apt_dir*: the first
    ``deb`` source that is not a security archive.

    Raises:
        ProvisionError: No such source is configured.
    """
    parts = apt_dir / "sources.list.d"
    deb822 = sorted(parts.glob("*.sources")) if parts.is_dir() else []
    one_line = [apt_dir / "sources.list", *(sorted(parts.glob("*.list")) if parts.is_dir() else [])]
    for path in deb822:
        for stanza in path.read_text(encoding="utf-8").split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if re.match(r"^\w[\w-]*:", line)
            )
            uris = fields.get("URIs", "").split()
            suites = fields.get("Suites", "")
            types = fields.get("Types", "deb").split()
            if uris and "deb" in types and "security" not in suites + uris[0]:
                return uris[0].rstrip("/")
    for path in one_line:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if match and "security" not in match.group(1) + match.group(2):
                return match.group(1).rstrip("/")
    raise ProvisionError(
        f"no Debian mirror in apt's sources under {apt_dir} (sources.list or"
        " sources.list.d/): add the Debian archive this machine uses to apt's sources"
    )


def apt_download(scratch: Path, suite: str, packages: list[str]) -> list[Path]:
    """Download ``packages`` and all their dependencies from ``suite`` into ``scratch``.

    A private apt configuration: its own sources list, package lists, cache and an
    empty dpkg status (so every dependency is fetched), no locking of the system's.
    """
    for sub in ("lists/partial", "cache/archives/partial", "etc"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    (scratch / "status").write_text("", encoding="utf-8")
    (scratch / "etc" / "sources.list").write_text(
        f"deb [signed-by={KEYRING}] {debian_mirror()} {suite} main\n", encoding="utf-8"
    )
    options = {
        "Dir::Etc::SourceList": str(scratch / "etc" / "sources.list"),
        "Dir::Etc::SourceParts": "/dev/null",
        "Dir::Etc::Preferences": "/dev/null",
        "Dir::Etc::PreferencesParts": "/dev/null",
        "Dir::State::Lists": str(scratch / "lists"),
        "Dir::State::status": str(scratch / "status"),
        "Dir::State::extended_states": str(scratch / "extended_states"),
        "Dir::Cache": str(scratch / "cache"),
        "Debug::NoLocking": "1",
        "APT::Install-Recommends": "false",
        "APT::Sandbox::User": "root",
    }
    apt = ["apt-get", "-q"]
    for key, value in options.items():
        apt += ["-o", f"{key}={value}"]
    log(f"apt-get update ({suite}, private lists)")
    run([*apt, "update"])
    log(f"apt-get --download-only install {' '.join(packages)} ({suite})")
    run([*apt, "-y", "--download-only", "install", *packages])
    debs = sorted((scratch / "cache" / "archives").glob("*.deb"))
    if not debs:
        raise ProvisionError(f"apt downloaded nothing for {packages} from {suite}")
    return debs


def unpack(debs: list[Path], root: Path) -> None:
    """Extract every ``.deb`` into ``root`` (no maintainer scripts run), a few at a time."""
    log(f"unpacking {len(debs)} packages")
    root.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # list() waits for them all and re-raises the first failure.
        list(pool.map(lambda deb: run(["dpkg-deb", "-x", str(deb), str(root)]), debs))


def deb_version(debs: list[Path], package: str) -> str:
    """Return the version of ``package`` among the downloaded ``debs``."""
    for deb in debs:
        if deb.name.startswith(package + "_"):
            return run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()
    raise ProvisionError(f"{package} is not among the downloaded packages")


def loader_argv(root: Path, program: str) -> list[str]:
    """Return the command running ``program`` through the private root's own loader."""
    libs = f"{root / LIB_DIR}:{root / LIB_DIR / 'pulseaudio'}"
    return [str(root / LOADER), "--library-path", libs, str(root / program)]


def provision_renpy83(folder: Path, final: Path) -> EngineInfo:
    """Download Ren'Py 8.3 from trixie into ``folder`` (which becomes ``final``)."""
    debs = apt_download(folder / "apt", "trixie", list(PACKAGES["renpy83"]))
    unpack(debs, folder / "root")
    version = deb_version(debs, "renpy")
    shutil.rmtree(folder / "apt")
    root = final / "root"
    base = root / "usr/share/games/renpy"
    script = folder / "root/usr/share/games/renpy/renpy.py"
    text = script.read_text(encoding="utf-8")
    patched, count = re.subn(
        r'renpy_base = "/usr/share/games/renpy"', f"renpy_base = {str(base)!r}", text
    )
    if count != 1:
        raise ProvisionError(f"renpy.py of {version} no longer hard-codes renpy_base")
    script.write_text(patched, encoding="utf-8")
    pythons = sorted((folder / "root/usr/bin").glob("python3.[0-9]*"))
    pythons = [p for p in pythons if re.fullmatch(r"python3\.\d+", p.name)]
    if not pythons:
        raise ProvisionError("no python3.X in the unpacked trixie packages")
    python = "usr/bin/" + pythons[-1].name
    return {
        "name": "renpy83",
        "version": version,
        "argv": [*loader_argv(root, python), str(base / "renpy.py")],
        "env": {
            "PYTHONHOME": str(root / "usr"),
            "PYTHONPATH": f"{root / 'usr/lib/python3/dist-packages'}:{base}",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        "base": str(base),
        "launcher": "renpy",
        "needs_py311_fix": False,
    }


def provision_godot(folder: Path, final: Path) -> EngineInfo:
    """Download Godot 4 from sid (or forky) into ``folder`` (which becomes ``final``)."""
    errors: list[str] = []
    for suite in ("sid", "forky"):
        try:
            debs = apt_download(folder / "apt", suite, list(PACKAGES["godot"]))
            break
        except ProvisionError as exc:
            errors.append(f"{suite}: {exc}")
            shutil.rmtree(folder / "apt", ignore_errors=True)
    else:
        raise ProvisionError("godot: " + "; ".join(errors))
    version = deb_version(debs, "godot")
    if not version.startswith("4."):
        raise ProvisionError(f"Debian {suite} has godot {version}, not 4.x")
    unpack(debs, folder / "root")
    shutil.rmtree(folder / "apt")
    return {
        "name": "godot",
        "version": version,
        "suite": suite,
        "argv": loader_argv(final / "root", "usr/bin/godot"),
        "env": {},
        "launcher": "godot",
    }


# --- the cache: build aside, rename when complete --------------------------------


def read_stamp(final: Path) -> EngineInfo | None:
    """Return the stamp of a finished engine folder, or None."""
    try:
        info = json.loads((final / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not all(
        isinstance(info.get(key), kind)
        for key, kind in (("name", str), ("version", str), ("argv", list), ("env", dict))
    ):
        return None
    if not info["argv"] or not Path(str(info["argv"][0])).exists():
        return None  # provisioned once, but the files are gone (package removed)
    return cast("EngineInfo", info)


def is_current(name: str, info: EngineInfo) -> bool:
    """Whether the stamped engine ``name`` is made of today's :data:`PACKAGES`.

    (A stamp without a package list predates the lists and counts as current.)
    The system's Ren'Py is also checked against dpkg: a package may have been
    removed, or added to the list, since.
    """
    wanted = list(PACKAGES[name])
    if info.get("packages", wanted) != wanted:
        return False
    return name != "renpy80" or all(installed_version(package) for package in wanted)


def provision(name: str, *, force: bool = False) -> EngineInfo:
    """Make engine ``name`` ready and return its stamp (instant when cached)."""
    if name not in ENGINE_NAMES:
        raise ProvisionError(f"unknown engine {name!r} (one of {', '.join(ENGINE_NAMES)})")
    base = cache_root()
    final = base / name
    if not force and (info := read_stamp(final)) is not None and is_current(name, info):
        return info
    check_platform()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and (info := read_stamp(final)) is not None and is_current(name, info):
            return info  # another run finished it while this one waited
        started = time.monotonic()
        folder = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=base))
        try:
            if name == "renpy80":
                info = provision_renpy80(folder)
            elif name == "renpy83":
                info = provision_renpy83(folder, final)
            else:
                info = provision_godot(folder, final)
            info["packages"] = list(PACKAGES[name])
            write_stamp(folder, info)
            if final.exists():
                shutil.rmtree(final)
            folder.rename(final)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        log(f"{name} {info['version']} ready in {time.monotonic() - started:.1f} s: {final}")
    return read_stamp(final) or info


def main(argv: Sequence[str] | None = None) -> int:
    """Provision the engines named on the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="renpy80, renpy83, godot, chromium, all"
    )
    parser.add_argument("--force", action="store_true", help="provision again even if cached")
    parser.add_argument("--quiet", action="store_true", help="print only failures")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="provision: %(message)s"
    )
    everything = not [t for t in args.targets if t != "all"]
    browser = everything or "chromium" in args.targets
    targets = [t for t in args.targets if t not in ("all", "chromium")]
    if everything:
        targets = list(ENGINE_NAMES)
    failed = 0
    if browser:
        try:
            apt_install(
                BROWSER_PACKAGES, "the web console's browser tests need apt-get install chromium"
            )
        except ProvisionError as exc:
            failed += 1
            logger.error("chromium: %s", exc)
    if "godot" in targets:
        try:  # Godot's windowed tests run under Xvfb
            apt_install(
                WINDOW_PACKAGES, "a virtual screen for Godot comes from apt-get install xvfb"
            )
        except ProvisionError as exc:
            failed += 1
            logger.error("xvfb: %s", exc)
    for target in targets:
        try:
            info = provision(target, force=args.force)
        except ProvisionError as exc:
            failed += 1
            logger.error("%s: %s", target, exc)
        else:
            log(f"{target} {info['version']}: {cache_root() / target / str(info['launcher'])}")
    if failed and os.environ.get("CI"):
        return 1
    if failed:
        logger.warning("outside CI the engine tests that need it will skip")
    return 0


if __name__ == "__main__":
    sys.exit(main())

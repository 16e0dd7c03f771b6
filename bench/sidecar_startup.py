"""The Godot sidecar's start-up cost: importing the proxy, and ``neuro-bridge proxy --help``.

Run with ``python bench/sidecar_startup.py --before OTHER/bridge`` to compare this
checkout's runtime with another one (a worktree of an older commit), side by side;
without ``--before`` it measures this checkout only.  Not a test: it prints figures.

Each run is a fresh interpreter (the sidecar is one): ``python -X importtime -c
"import neuro_bridge.proxy"`` gives the import's own clock, its CPU time and the modules it
loaded; ``python -m neuro_bridge proxy --help`` the wall time to the first
useful output; and ``neuro-bridge proxy --ready-file F`` (as the Godot addon starts
its sidecar) the time until F is written.  The trees take turns run by run, so a
machine whose speed drifts slows both alike; figures are medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "bridge"
IMPORT = (
    "import sys, neuro_bridge.proxy;"
    "print(len(sys.modules), sum(m.startswith('neuro_bridge.mock') for m in sys.modules))"
)


def _children_cpu() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTHONSTARTUP", None)
    return env


def _import_run(tree: Path) -> tuple[float, float, float, int, int]:
    """Return (wall s, CPU s, proxy import cumulative s, modules, mock modules loaded)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-X", "importtime", "-c", IMPORT],
        env=_env(tree),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    cumulative = 0.0
    for line in done.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[2].strip() == "neuro_bridge.proxy":
            cumulative = int(fields[1]) / 1e6
    modules, mock = (int(n) for n in done.stdout.split())
    return wall, cpu, cumulative, modules, mock


def _help_run(tree: Path) -> float:
    """Return the wall time of ``python -m neuro_bridge proxy --help``."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "neuro_bridge", "proxy", "--help"],
        env=_env(tree),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return time.perf_counter() - start


def _ready_run(tree: Path, folder: Path) -> float:
    """Return the time until ``neuro-bridge proxy`` writes its ready file (as the sidecar)."""
    ready = folder / "ready"
    ready.unlink(missing_ok=True)
    start = time.perf_counter()
    # Upstream is a closed port of 127.0.0.1: the proxy gets ready before it connects.
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable, "-m", "neuro_bridge", "proxy", "--port", "0",
            "--upstream", "ws://127.0.0.1:9", "--ready-file", str(ready),
        ],
        env=_env(tree),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = start + 30
        while not (ready.exists() and ready.stat().st_size):
            if time.perf_counter() > deadline or process.poll() is not None:
                raise RuntimeError("the proxy did not get ready")
            time.sleep(0.002)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(trees: dict[str, Path], runs: int) -> dict[str, dict[str, list[float]]]:
    """Run every measurement *runs* times per tree, the trees taking turns."""
    figures: dict[str, dict[str, list[float]]] = {
        name: {
            "import wall": [],
            "import cpu": [],
            "import (importtime)": [],
            "help wall": [],
            "ready file": [],
            "modules": [],
        }
        for name in trees
    }
    folder = Path(tempfile.mkdtemp(prefix="sidecar-startup-"))
    for _ in range(runs):
        for name, tree in trees.items():
            wall, cpu, cumulative, modules, mock = _import_run(tree)
            figures[name]["import wall"].append(wall)
            figures[name]["import cpu"].append(cpu)
            figures[name]["import (importtime)"].append(cumulative)
            figures[name]["help wall"].append(_help_run(tree))
            figures[name]["ready file"].append(_ready_run(tree, folder))
            figures[name]["modules"].append(float(modules))
            figures[name].setdefault("mock modules", []).append(float(mock))
    shutil.rmtree(folder, ignore_errors=True)
    return figures


def main() -> None:
    """Print the medians, and the ratio this/before where a tree to compare is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", type=Path, help="another checkout's bridge/ directory")
    parser.add_argument("--runs", type=int, default=15, help="runs per tree (default 15)")
    args = parser.parse_args()
    trees = {"this": HERE}
    if args.before is not None:
        trees = {"before": args.before.resolve(), "this": HERE}
    figures = measure(trees, args.runs)
    print(f"{args.runs} runs per tree, interleaved; medians")
    header = f"{'measure':<22}" + "".join(f"{name:>12}" for name in trees)
    if "before" in trees:
        header += f"{'this/before':>13}"
    print(header)
    for key in figures["this"]:
        medians = {name: statistics.median(figures[name][key]) for name in trees}
        is_time = key not in {"modules", "mock modules"}
        row = f"{key + (' ms' if is_time else ''):<22}"
        for name in trees:
            value = medians[name] * 1000 if is_time else medians[name]
            row += f"{value:>12.1f}" if is_time else f"{value:>12.0f}"
        if "before" in trees:
            before = medians["before"]
            row += f"{medians['this'] / before:>13.2f}" if before else f"{'-':>13}"
        print(row)


if __name__ == "__main__":
    main()

"""The ``neuro-bridge`` entry point: subcommands, help, version, lazy loading."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from neuro_bridge import __version__, argtypes, cli
from neuro_bridge.cli import SUBCOMMANDS, chosen_command, main


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"neuro-bridge {__version__}"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bogus"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    top_package = SUBCOMMANDS[name][0].split(".")[0]
    if name in cli.INSTALL_HINTS and importlib.util.find_spec(top_package) is None:
        pytest.skip(f"{top_package} (another distribution) is not installed")
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert SUBCOMMANDS[name][1] in out
    # The subcommand's own options are shown, not just its one-line help.
    assert "--" in out.split(SUBCOMMANDS[name][1], 1)[1]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], None),
        (["-v"], None),
        (["mock"], "mock"),
        (["-vv", "demo", "--headless"], "demo"),
        (["--verbose", "mock", "demo"], "mock"),
        (["--", "mock"], "mock"),
        (["--"], None),
    ],
)
def test_chosen_command(argv: list[str], expected: str | None) -> None:
    assert chosen_command(argv) == expected


def _modules_loaded_by(*args: str) -> set[str]:
    """Run the CLI in a fresh interpreter; return the subcommand modules it imported."""
    code = (
        "import contextlib, io, sys\n"
        "from neuro_bridge.cli import SUBCOMMANDS, main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({list(args)!r})\n"
        "print(','.join(n for n, (m, _) in SUBCOMMANDS.items() if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True
    )
    return {name for name in result.stdout.strip().split(",") if name}


def test_top_level_help_imports_no_subcommand() -> None:
    assert _modules_loaded_by("--help") == set()


def test_a_subcommands_help_imports_only_that_subcommand() -> None:
    assert _modules_loaded_by("mock", "--help") == {"mock"}


def test_a_broken_subcommand_breaks_only_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.SUBCOMMANDS, "broken", ("neuro_bridge_no_such_module", "never"))
    assert main([]) == 2
    assert "broken" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["mock", "--help"])
    assert exit_info.value.code == 0
    capsys.readouterr()
    assert main(["broken"]) == 2
    assert capsys.readouterr().err == (
        "neuro-bridge broken: it needs neuro_bridge_no_such_module, which is not installed\n"
    )


@pytest.mark.parametrize("args", [["demo"], ["demo", "--help"], ["-v", "demo", "--headless"]])
def test_demo_without_the_sample_says_how_to_get_it(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As if the sample game's distribution were not installed.
    for name in [n for n in sys.modules if n.split(".")[0] == "neuro_connect_four"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "neuro_connect_four", None)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("neuro-bridge demo: the demo is the Connect Four sample game")
    assert "make demo" in line


def test_a_missing_dependency_inside_a_subcommand_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the subcommand's own module (or its package) missing gets the hint.
    monkeypatch.setitem(cli.SUBCOMMANDS, "inner", ("tests.cli_missing_import", "inner"))
    with pytest.raises(ModuleNotFoundError, match="neuro_bridge_absent_dependency"):
        main(["inner"])


def test_python_dash_m_runs_the_same_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "neuro_bridge", "--version"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == f"neuro-bridge {__version__}"
    usage = subprocess.run(
        [sys.executable, "-m", "neuro_bridge", "bogus"],
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 2
    assert "invalid choice" in usage.stderr


@pytest.mark.parametrize(
    ("check", "text", "value"),
    [
        (argtypes.port, "0", 0),
        (argtypes.port, "65535", 65535),
        (argtypes.positive_int, "3", 3),
        (argtypes.non_negative_int, "0", 0),
        (argtypes.non_negative, "0", 0.0),
        (argtypes.positive, "0.5", 0.5),
        (argtypes.probability, "1", 1.0),
    ],
)
def test_option_types_accept(check: Callable[[str], object], text: str, value: object) -> None:
    assert check(text) == value


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (argtypes.port, "65536"),
        (argtypes.port, "-1"),
        (argtypes.port, "8000.5"),
        (argtypes.positive_int, "0"),
        (argtypes.non_negative_int, "-1"),
        (argtypes.non_negative, "-0.1"),
        (argtypes.non_negative, "inf"),
        (argtypes.positive, "0"),
        (argtypes.positive, "x"),
        (argtypes.probability, "-0.5"),
    ],
)
def test_option_types_refuse(check: Callable[[str], object], text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        check(text)


def test_writable_file(tmp_path: Path) -> None:
    assert argtypes.writable_file(str(tmp_path / "r.json")) == tmp_path / "r.json"
    with pytest.raises(argparse.ArgumentTypeError, match="does not exist"):
        argtypes.writable_file(str(tmp_path / "missing" / "r.json"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder"):
        argtypes.writable_file(str(tmp_path))

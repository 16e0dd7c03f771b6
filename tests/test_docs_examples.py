"""Every code block of ``README.md`` and ``docs/**/*.rst``, run exactly as a reader sees it.

The blocks are read from the files themselves, so a page added under ``docs/`` is
checked without changing this test.  What happens to a block depends on the language
it declares -- the convention for everyone writing docs:

``python`` (``.. code-block:: python``, a ``.. literalinclude::`` of a ``.py`` file, a
Markdown fence opened with ````` ```python `````)
    A complete program.  It is saved to a file and run with ``python FILE`` against
    the stand-in Neuro (:mod:`neuro_bridge.mock` on a free port of 127.0.0.1, given
    to the program as ``NEURO_SDK_WS_URL``), with SDL's dummy video and audio
    drivers.  It passes if it connects, breaks no protocol rule, answers every action
    successfully, writes nothing to standard error, and then either exits with
    status 0 or -- a game loop that runs until its window is closed -- is still
    running once every force has been answered and it has been quiet for a moment
    (the test then stops it).
``console`` / ``shell-session``
    Lines starting with ``$`` are commands, run in order by ``bash`` in a new empty
    directory (what they write stays out of the clone) with this Python's scripts
    first on ``PATH``; each must exit with status 0.  The other lines are output,
    shown to the reader, not compared.
``sh`` / ``bash`` / ``shell``
    A script, run the same way.
anything else (``text``, ``json``, ``renpy``, ``gdscript``, a plain ``::`` literal block)
    Shown, not run.  A literal block (or a Markdown fence without a language) that
    parses as Python fails this test: say what it is.

A block a reader is not meant to run as shown -- a fragment that continues an
example, a command that installs software or runs until stopped -- is marked by a
comment on the line just before it, with the reason::

    .. not-runnable: continues the example above

    <!-- not-runnable: installs into your environment -->

(the first in reStructuredText, the second in Markdown; neither is rendered).  A
marked Python block is still compiled, top-level ``await`` allowed, so a typo fails.
A program is shown whole: a ``literalinclude`` of part of a file (``:pyobject:``,
``:lines:``, ``:start-after:`` ...) must be marked.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import sys
import textwrap
from pathlib import Path

import attrs
import pytest
import trio

from neuro_bridge.mock import MockConfig, MockNeuro
from tests.helpers import WAIT, action_frame, scripted_neuro
from tests.quickstart_example import play_guessing_game

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a program or a shell block may take, start-up included, before it fails.
RUN_LIMIT = 60.0
#: Seconds without a message from a still-running program, with no force in
#: flight, after which it counts as settled and is stopped.
QUIET = 1.5

PYTHON = frozenset({"python", "py", "python3"})
CONSOLE = frozenset({"console", "shell-session"})
SCRIPT = frozenset({"sh", "bash", "shell"})
#: literalinclude options that show only part of the file.
PARTIAL_OPTIONS = frozenset(
    {"pyobject", "lines", "start-after", "end-before", "start-at", "end-at", "diff"}
)
_SUFFIX_LANGUAGES = {".py": "python", ".sh": "sh"}


@attrs.frozen
class Block:
    """One code block as the reader sees it."""

    path: Path
    #: 1-based line of the directive, fence or ``::`` paragraph.
    line: int
    #: The declared language, lower case; ``""`` for a literal block or a bare fence.
    language: str
    text: str
    #: The reason given in a ``not-runnable`` comment, if the block has one.
    not_runnable: str | None = None
    #: A literalinclude of part of a file.
    partial: bool = False

    @property
    def label(self) -> str:
        """``file:line``, relative to the repository's root where possible."""
        try:
            name = self.path.relative_to(ROOT).as_posix()
        except ValueError:
            name = self.path.name
        return f"{name}:{self.line}"


# ---------------------------------------------------------------- extraction

_RST_MARKER = re.compile(r"^\s*\.\. not-runnable:(.*)$")
_MD_MARKER = re.compile(r"^\s*<!--\s*not-runnable:(.*?)-->\s*$")
_CODE_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_INCLUDE_DIRECTIVE = re.compile(r"^(\s*)\.\. literalinclude::\s*(\S+)\s*$")
_OPTION = re.compile(r"^\s+:([\w-]+):\s*(.*)$")
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _marker(lines: list[str], index: int, pattern: re.Pattern[str]) -> str | None:
    """The reason of a marker on the nearest non-blank line above *index*, if any."""
    for above in reversed(lines[:index]):
        if above.strip():
            match = pattern.match(above)
            return match.group(1).strip() if match else None
    return None


def _body(lines: list[str], start: int, indent: int) -> tuple[str, int]:
    """The block indented deeper than *indent* from *start*, dedented; and where it ends."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    text = textwrap.dedent("\n".join(lines[start:end])).strip("\n")
    return text + "\n", end


def rst_blocks(path: Path, source: str | None = None) -> list[Block]:
    """The code blocks of a reStructuredText file, in order."""
    lines = (path.read_text(encoding="utf-8") if source is None else source).splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        code = _CODE_DIRECTIVE.match(line)
        include = _INCLUDE_DIRECTIVE.match(line)
        if code or include:
            match = code or include
            assert match is not None
            indent = len(match.group(1))
            options: dict[str, str] = {}
            after = index + 1
            while after < len(lines) and (option := _OPTION.match(lines[after])):
                options[option.group(1)] = option.group(2)
                after += 1
            reason = _marker(lines, index, _RST_MARKER)
            if code:
                text, end = _body(lines, after, indent)
                language = (code.group(2) or "python").lower()
                blocks.append(Block(path, index + 1, language, text, reason))
            else:
                target = match.group(2)
                included = (
                    path.parent / target if not target.startswith("/") else ROOT / "docs" / target
                )
                language = options.get("language") or _SUFFIX_LANGUAGES.get(included.suffix, "")
                partial = bool(PARTIAL_OPTIONS & set(options))
                text = included.read_text(encoding="utf-8")
                blocks.append(Block(path, index + 1, language, text, reason, partial))
                end = after
            index = max(end, index + 1)
            continue
        stripped = line.rstrip()
        if stripped.endswith("::") and not stripped.lstrip().startswith(".."):
            text, end = _body(lines, index + 1, _indent(line))
            if text.strip():
                blocks.append(Block(path, index + 1, "", text))
            index = max(end, index + 1)
            continue
        index += 1
    return blocks


def markdown_blocks(path: Path, source: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    lines = (path.read_text(encoding="utf-8") if source is None else source).splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        indent, marks, language = len(fence.group(1)), fence.group(2), fence.group(3)
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(marks):
            end += 1
        body = [
            line[indent:] if _indent(line) >= indent else line for line in lines[index + 1 : end]
        ]
        reason = _marker(lines, index, _MD_MARKER)
        blocks.append(Block(path, index + 1, language.lower(), "\n".join(body) + "\n", reason))
        index = end + 1
    return blocks


def documentation_files() -> list[Path]:
    """README.md and every ``.rst`` under ``docs/`` (the build output excluded)."""
    pages = sorted(p for p in (ROOT / "docs").rglob("*.rst") if "_build" not in p.parts)
    return [ROOT / "README.md", *pages]


def all_blocks() -> list[Block]:
    """Every code block of the documentation."""
    blocks: list[Block] = []
    for path in documentation_files():
        if path.suffix == ".md":
            blocks += markdown_blocks(path)
        else:
            blocks += rst_blocks(path)
    return blocks


BLOCKS = all_blocks()
RUNNABLE_PYTHON = [b for b in BLOCKS if b.language in PYTHON and b.not_runnable is None]
SHOWN_PYTHON = [b for b in BLOCKS if b.language in PYTHON and b.not_runnable is not None]
RUNNABLE_SHELL = [b for b in BLOCKS if b.language in CONSOLE | SCRIPT and b.not_runnable is None]


def _ids(blocks: list[Block]) -> list[str]:
    return [b.label for b in blocks]


def _parses_as_python(text: str) -> bool:
    """Whether *text* is Python beyond a lone name or constant (which prose can be)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    if not tree.body:  # comments only
        return False
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        return not isinstance(tree.body[0].value, (ast.Name, ast.Constant))
    return True


def _shell_script(block: Block) -> str:
    """What ``bash`` runs for a shell block: its commands, stopping at the first failure."""
    if block.language in CONSOLE:
        lines = [line.lstrip() for line in block.text.splitlines()]
        commands = [line[1:].strip() for line in lines if line.startswith("$")]
        return "\n".join(["set -e", *commands]) + "\n"
    return "set -e\n" + block.text


# ---------------------------------------------------------------- the extraction itself

SAMPLE_RST = """\
Title
=====

Run this:

.. code-block:: python

    import trio
    print("hi")

.. not-runnable: continues the example above

.. code-block:: python
   :caption: part

   neuro.force("x", ["y"])

Output::

    stand-in Neuro listening

.. code-block:: console

    $ neuro-bridge --version
    neuro-bridge 1.0
"""

SAMPLE_MARKDOWN = """\
# Title

<!-- not-runnable: installs into your environment -->
```sh
pip install neuro-bridge
```

```python
    indented = True
```
"""


def test_extraction_reads_every_kind_of_block() -> None:
    rst = rst_blocks(ROOT / "docs" / "sample.rst", SAMPLE_RST)
    assert [(b.line, b.language, b.not_runnable) for b in rst] == [
        (6, "python", None),
        (13, "python", "continues the example above"),
        (18, "", None),
        (22, "console", None),
    ]
    assert rst[0].text == 'import trio\nprint("hi")\n'
    assert rst[1].text == 'neuro.force("x", ["y"])\n'
    assert rst[2].text == "stand-in Neuro listening\n"
    assert _shell_script(rst[3]) == "set -e\nneuro-bridge --version\n"
    markdown = markdown_blocks(ROOT / "sample.md", SAMPLE_MARKDOWN)
    assert [(b.line, b.language, b.not_runnable) for b in markdown] == [
        (4, "sh", "installs into your environment"),
        (8, "python", None),
    ]
    assert markdown[1].text == "    indented = True\n"


def test_every_page_is_read() -> None:
    pages = {p.relative_to(ROOT).as_posix() for p in documentation_files()}
    assert {"README.md", "docs/index.rst", "docs/quickstart.rst", "docs/pygame.rst"} <= pages
    # The examples the guides are built on are among the programs run below.
    assert {b.path.name for b in RUNNABLE_PYTHON} >= {"README.md", "quickstart.rst", "pygame.rst"}


def test_every_block_says_what_it_is() -> None:
    problems = []
    for block in BLOCKS:
        if block.language == "" and _parses_as_python(block.text):
            problems.append(f"{block.label}: Python in a literal block: declare its language")
        if block.partial and block.language in PYTHON and block.not_runnable is None:
            problems.append(f"{block.label}: part of a file: show it whole or mark it")
        if block.not_runnable == "":
            problems.append(f"{block.label}: a not-runnable mark needs its reason")
    assert problems == []


def test_every_not_runnable_mark_belongs_to_a_block() -> None:
    marked = {(b.path, b.line) for b in BLOCKS if b.not_runnable is not None}
    for path in documentation_files():
        pattern = _MD_MARKER if path.suffix == ".md" else _RST_MARKER
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if pattern.match(line):
                following = next(
                    n for n in range(number + 1, len(lines) + 1) if lines[n - 1].strip()
                )
                assert (path, following) in marked, f"{path.name}:{number}: mark without a block"


def test_readme_shows_the_pygame_guide_example() -> None:
    (readme_example,) = [b for b in RUNNABLE_PYTHON if b.path.name == "README.md"]
    shown = (ROOT / "tests" / "engines" / "pygame_example.py").read_text(encoding="utf-8")
    assert readme_example.text == shown


# ---------------------------------------------------------------- running them


def _environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    environment["PATH"] = scripts + os.pathsep + environment.get("PATH", "")
    environment.update(
        SDL_VIDEODRIVER="dummy",
        SDL_AUDIODRIVER="dummy",
        PYGAME_HIDE_SUPPORT_PROMPT="1",
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return environment


async def _settle_or_exit(process: trio.Process, mock: MockNeuro) -> bool:
    """Wait until *process* exits (``True``) or settles while running (``False``)."""
    heard = -1
    quiet_since = trio.current_time()
    while process.poll() is None:
        messages = sum(len(session.commands()) for session in mock.sessions)
        if messages != heard:
            heard, quiet_since = messages, trio.current_time()
        settled = (
            mock.sessions
            and all(session.pending_force is None for session in mock.sessions)
            and trio.current_time() - quiet_since >= QUIET
        )
        if settled:
            return False
        await trio.sleep(0.05)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE_PYTHON, ids=_ids(RUNNABLE_PYTHON))
async def test_python_example_runs_against_the_stand_in(block: Block, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(block.text, encoding="utf-8")
    mock = MockNeuro(MockConfig(port=0, force_delay=0.05, seed=0))
    output, errors = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        with output.open("wb") as stdout, errors.open("wb") as stderr:
            process = await trio.lowlevel.open_process(
                [sys.executable, str(program)],
                cwd=tmp_path,
                env=_environment(NEURO_SDK_WS_URL=mock.url),
                stdout=stdout,
                stderr=stderr,
            )
            try:
                with trio.fail_after(RUN_LIMIT):
                    exited = await _settle_or_exit(process, mock)
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    with trio.move_on_after(WAIT):
                        await process.wait()
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
        mock.stop()
    shown = f"stdout:\n{output.read_text()}\nstderr:\n{errors.read_text()}"
    assert errors.read_text() == "", shown
    if exited:
        assert process.returncode == 0, shown
    assert mock.sessions, f"the program never connected to the stand-in Neuro\n{shown}"
    assert mock.sessions[0].commands()[:1] == ["startup"], shown
    assert mock.findings == [], mock.summary()
    failed = [r for session in mock.sessions for r in session.results if not r.success]
    assert failed == [], shown


@pytest.mark.parametrize("block", SHOWN_PYTHON, ids=_ids(SHOWN_PYTHON))
def test_shown_python_compiles(block: Block) -> None:
    compile(block.text, block.label, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("block", RUNNABLE_SHELL, ids=_ids(RUNNABLE_SHELL))
async def test_shell_example_runs(block: Block, tmp_path: Path) -> None:
    with trio.fail_after(RUN_LIMIT):
        finished = await trio.run_process(
            ["bash", "-c", _shell_script(block)],
            cwd=tmp_path,
            env=_environment(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert finished.returncode == 0, (finished.stdout + finished.stderr).decode()


# ---------------------------------------------------------------- the quick start, closely


async def test_quickstart_example_plays_a_game() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        guesses: list[int] = []

        async def game() -> None:
            guesses.extend(await play_guessing_game(neuro.url, secret=7))

        nursery.start_soon(game)
        connection = await neuro.wait_connection()
        with trio.fail_after(WAIT):
            for number, guess in enumerate([3, 9, 7]):
                await connection.wait_for(
                    lambda _, n=number: connection.commands().count("actions/force") > n
                )
                await connection.send(
                    action_frame(f"g{number}", "guess_number_pick", {"number": guess})
                )
                result = await connection.wait_for_result(f"g{number}")
                assert result["message"] == {3: "Higher.", 9: "Lower.", 7: "Correct!"}[guess]
            await connection.closed.wait()
    assert guesses == [3, 9, 7]
    registered = connection.messages()[1]
    assert registered["command"] == "actions/register"
    assert json.dumps(registered["data"]["actions"][0]["schema"]["required"]) == '["number"]'

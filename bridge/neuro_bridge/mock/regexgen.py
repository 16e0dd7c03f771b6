"""Strings for regular expressions: candidates for a JSON schema's ``pattern``.

:func:`pattern_candidates` parses a pattern with the standard library's own
regular-expression parser and walks the parse tree (:class:`RegexWalker`), making
one random string per walk.  A candidate is not guaranteed to match -- anchors and
lookarounds generate nothing and are left to the caller's final check with
:func:`re.search`, as validators do.  Sans-IO and pure Python.
"""

from __future__ import annotations

import importlib
import re
import string
import sys
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable, Iterator

__all__ = ["TEXT_ALPHABET", "CannotGenerateError", "RegexWalker", "pattern_candidates"]

# The standard library's regular-expression parser: ``re._parser`` since 3.11,
# ``sre_parse`` before (deprecated, with a warning, from 3.11 on).
_sre_parse: Any = importlib.import_module(
    "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
)
#: The parser's "no upper bound" for a repeat.
MAXREPEAT: int = _sre_parse.MAXREPEAT

#: Characters used for ``.`` and for noise.  No newline, so ``$`` and ``\Z`` agree.
TEXT_ALPHABET = string.ascii_letters + string.digits + " -_.,!?"


def pattern_candidates(
    pattern: str, rng: random.Random, length_hint: int, attempts: int
) -> Iterator[str]:
    """Yield up to *attempts* random strings built from *pattern*'s parse tree.

    Each walk lets unbounded repeats grow by up to about *length_hint*.  Yields
    nothing when the pattern does not parse, and stops at the first construct the
    walker cannot generate.
    """
    try:
        parsed: Any = _sre_parse.parse(pattern)
    except Exception:  # the parser's errors vary between Python versions
        return
    for _ in range(attempts):
        walker = RegexWalker(rng, rng.randint(0, max(4, length_hint)))
        try:
            yield walker.generate(parsed)
        except CannotGenerateError:
            return


class CannotGenerateError(Exception):
    """The pattern uses a construct :class:`RegexWalker` does not generate."""


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + " -_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,!?",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": string.ascii_letters,
}

_CATEGORY_TESTS = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
    "CATEGORY_LINEBREAK": re.compile(r"\n"),
    "CATEGORY_NOT_LINEBREAK": re.compile(r"[^\n]"),
}

#: Characters tried for ``.``, ``[^...]`` and ``[^x]``.
_NEGATION_POOL = TEXT_ALPHABET + "#$%&*+/:;=@~"


class RegexWalker:
    r"""One attempt at a string for a parsed pattern (a ``sre_parse`` tree).

    Handles literals, ``.``, classes (ranges, ``\d\w\s`` and negations),
    alternation, groups and back-references, greedy/lazy/possessive repeats
    (unbounded ones grow at most *repeat_cap* past their minimum), atomic groups,
    conditionals, anchors and lookarounds (both generate nothing and are left to
    the final match check).  Anything else raises :class:`CannotGenerateError`.
    """

    def __init__(self, rng: random.Random, repeat_cap: int) -> None:
        self._rng = rng
        self._cap = repeat_cap
        self._groups: dict[int, str] = {}

    def generate(self, items: Iterable[tuple[Any, Any]]) -> str:
        """Return one string for the parsed pattern (or sub-pattern) *items*."""
        return "".join(self._item(op.name, value) for op, value in items)

    def _item(self, op: str, value: Any) -> str:
        rng = self._rng
        if op == "LITERAL":
            return chr(value)
        if op == "NOT_LITERAL":
            return self._char_outside(lambda c: c == chr(value))
        if op == "ANY":
            return rng.choice(TEXT_ALPHABET)
        if op == "IN":
            return self._class(value)
        if op == "BRANCH":
            return self.generate(rng.choice(value[1]))
        if op == "SUBPATTERN":
            group, sub = value[0], value[-1]
            text = self.generate(sub)
            if group is not None:
                self._groups[group] = text
            return text
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = value
            top = low + self._cap if high == MAXREPEAT else min(high, low + self._cap)
            return "".join(self.generate(sub) for _ in range(rng.randint(low, top)))
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""
        if op == "GROUPREF":
            if value not in self._groups:
                raise CannotGenerateError("reference to an unmatched group")
            return self._groups[value]
        if op == "GROUPREF_EXISTS":
            group, yes, no = value[0], value[1], value[2]
            if group in self._groups:
                return self.generate(yes)
            return "" if no is None else self.generate(no)
        if op == "ATOMIC_GROUP":
            return self.generate(value)
        raise CannotGenerateError(op)

    def _class(self, items: list[tuple[Any, Any]]) -> str:
        if items and items[0][0].name == "NEGATE":
            rest = items[1:]
            return self._char_outside(lambda c: _in_class(c, rest))
        op, value = self._rng.choice(items)
        name = op.name
        if name == "LITERAL":
            return chr(value)
        if name == "RANGE":
            return chr(self._rng.randint(value[0], value[1]))
        if name == "CATEGORY" and value.name in _CATEGORY_CHARS:
            return self._rng.choice(_CATEGORY_CHARS[value.name])
        raise CannotGenerateError(name)

    def _char_outside(self, excluded: Callable[[str], bool]) -> str:
        for char in self._rng.sample(_NEGATION_POOL, len(_NEGATION_POOL)):
            if not excluded(char):
                return char
        raise CannotGenerateError("every candidate character is excluded")


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    for op, value in items:
        name = op.name
        if name == "LITERAL" and char == chr(value):
            return True
        if name == "RANGE" and value[0] <= ord(char) <= value[1]:
            return True
        if name == "CATEGORY":
            test = _CATEGORY_TESTS.get(value.name)
            if test is None:
                raise CannotGenerateError(value.name)
            if test.match(char):
                return True
        elif name not in ("LITERAL", "RANGE"):
            raise CannotGenerateError(name)
    return False

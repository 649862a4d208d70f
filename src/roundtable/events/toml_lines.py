"""Where each key of a TOML document is written, so that a problem can name its line.

``tomllib`` returns plain dicts and forgets positions. This module reads the text
once more, line by line, following the table headers (``[organizer]``, the n-th
``[[agenda]]``) and stepping over whatever sits inside strings and multi-line
lists, and notes the line of every key it meets. It runs only on text that
``tomllib`` has already accepted, so it need not judge whether the TOML is valid.

A key is known by its path: ``("organizer", "email")``, or ``("agenda", 2, "time")``
for the ``time`` of the second ``[[agenda]]`` block (array-of-tables blocks count
from 1, as people count them).
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf"""(?:{_BARE_KEY}|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"

_HEADER = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_DOTTED_KEY})[ \t]*\]")
_KEY = re.compile(rf"[ \t]*({_DOTTED_KEY})[ \t]*=")
_PART = re.compile(_KEY_PART)


class KeyLines:
    """The line numbers (from 1) of the keys and table headers in one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        self._blocks: dict[KeyPath, int] = {}
        self._read(text)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or else of its nearest written parent (a table, a list)."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def _read(self, text: str) -> None:
        table: KeyPath = ()
        value = _ValueTracker()
        # tomllib counts lines by "\n" alone; str.splitlines would also split on \f, \x1c, …
        for number, line in enumerate(text.split("\n"), start=1):
            if value.is_open:
                value.follow(line)
                continue
            header = _HEADER.match(line)
            if header:
                table = self._enter_table(_key_parts(header[2]), header[1] == "[[", number)
                continue
            key = _KEY.match(line)
            if key:
                self._note((*table, *_key_parts(key[1])), number)
                value.follow(line[key.end() :])

    def _enter_table(self, parts: list[str], is_block: bool, number: int) -> KeyPath:
        """The path of a ``[table]`` or of the next ``[[block]]``, noted at its header line."""
        if is_block:
            array = (*self._resolve(parts[:-1]), parts[-1])
            self._blocks[array] = self._blocks.get(array, 0) + 1
            self._note(array, number)
            path = (*array, self._blocks[array])
        else:
            path = self._resolve(parts)
        self._note(path, number)
        return path

    def _resolve(self, parts: list[str]) -> KeyPath:
        """Header names that pass through an array of tables mean its latest block."""
        path: KeyPath = ()
        for part in parts:
            path = (*path, part)
            if path in self._blocks:
                path = (*path, self._blocks[path])
        return path

    def _note(self, path: KeyPath, number: int) -> None:
        self._lines.setdefault(path, number)


def _key_parts(dotted: str) -> list[str]:
    return [part[1:-1] if part[0] in "\"'" else part for part in _PART.findall(dotted)]


class _ValueTracker:
    """Follows a value across lines: an open multi-line string, or open brackets."""

    def __init__(self) -> None:
        self.open_string: str | None = None
        self.depth = 0

    @property
    def is_open(self) -> bool:
        return self.open_string is not None or self.depth > 0

    def follow(self, line: str) -> None:
        index = 0
        while index < len(line):
            if self.open_string is not None:
                index = self._close_multiline(line, index)
                continue
            char = line[index]
            if char == "#":
                return
            if line.startswith('"""', index) or line.startswith("'''", index):
                self.open_string = line[index : index + 3]
                index += 3
            elif char in "\"'":
                index = _end_of_string(line, index)
            else:
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth -= 1
                index += 1

    def _close_multiline(self, line: str, index: int) -> int:
        """The index after the closing delimiter, or the line's end if the string goes on."""
        delimiter = self.open_string
        assert delimiter is not None
        while index < len(line):
            if delimiter == '"""' and line[index] == "\\":
                index += 2
            elif line.startswith(delimiter, index):
                # up to two more quotes belong to the string: ``""""`` ends with one ``"``
                end = index + 3
                while end < len(line) and end - index < 5 and line[end] == delimiter[0]:
                    end += 1
                self.open_string = None
                return end
            else:
                index += 1
        return index


def _end_of_string(line: str, start: int) -> int:
    """The index after a one-line string that opens at ``start``."""
    quote = line[start]
    index = start + 1
    while index < len(line):
        if quote == '"' and line[index] == "\\":
            index += 2
        elif line[index] == quote:
            return index + 1
        else:
            index += 1
    return index

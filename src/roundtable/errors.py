"""Errors about what a user gave us: each names the file, line and field at fault."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    message: str
    source: str = ""
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


@dataclass
class InputError(Exception):
    """Bad input; nothing was written. Carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class NotFound(Exception):
    """Something named by the user (an event slug, an email) does not exist."""


def read_text_input(path: Path, *, max_bytes: int) -> str:
    """A user's UTF-8 file as text, or an :class:`InputError` naming the file (and line)."""
    data = path.read_bytes()
    source = str(path)
    if len(data) > max_bytes:
        raise InputError([Problem(f"is larger than {max_bytes} bytes", source=source)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError([Problem("is not UTF-8 text", source=source, line=line)]) from None

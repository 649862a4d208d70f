"""Finds text in another script that a right-to-left page leaves to the bidi algorithm."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:/@+()\-\s]*[A-Za-z0-9]")
_VOID = {"br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"}


class _Isolation(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.skip = 0
        self.loose: list[str] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
        if tag in _VOID:
            return
        direction = dict(attrs).get("dir")
        self.stack.append(tag == "bdi" or direction in ("auto", "ltr"))
        if tag in ("style", "script", "title", "head"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.stack:
            return
        self.stack.pop()
        if tag in ("style", "script", "title", "head"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_body or self.skip or any(self.stack):
            return
        data = re.sub("\u2068[^\u2069]*\u2069", "", data)  # isolated in the text itself
        self.loose.extend(
            match.group(0)
            for match in _LATIN_RUN.finditer(data)
            if re.search("[A-Za-z]{2}", match.group(0))
        )


def unisolated_latin(page: str) -> list[str]:
    """Runs of Latin letters in the body of ``page`` outside any isolating element."""
    parser = _Isolation()
    parser.feed(page)
    return parser.loose

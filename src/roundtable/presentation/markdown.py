"""Organizer-written Markdown (descriptions, recommendations) made safe for mail.

The HTML is sanitized with nh3 after rendering: Markdown passes raw HTML through,
and the text comes from event files that anyone with organizer rights can edit.
The plain-text version is derived from that same sanitized HTML, so the two
parts of a message can never disagree about what the organizer wrote.

The organizer's headings are demoted two levels (``#`` becomes ``<h3>``, ``##``
``<h4>``): the text always sits below the event's title (``<h1>``) and a section
heading of the mail or page (``<h2>``), and a description heading that reads larger
than the meeting's own title puts the facts out of sight on a phone
(docs/architecture.md, "Mail layout").
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import markdown as markdown_lib
import nh3
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

_BLOCKS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "hr"}
)
#: levels the organizer's headings move down; nh3 leaves heading tags bare (no attributes)
HEADING_DEMOTION = 2
_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _demoted(match: re.Match[str]) -> str:
    level = min(int(match.group(2)) + HEADING_DEMOTION, 6)
    return f"<{match.group(1)}h{level}>"


@lru_cache(maxsize=256)
def markdown_to_html(text: str) -> Markup:
    """Markdown rendered to HTML that keeps only harmless tags, attributes and link schemes.

    Cached: the same description is rendered for every invitee of an event.
    """
    if not text.strip():
        return Markup("")
    rendered = markdown_lib.markdown(text, extensions=["sane_lists"], output_format="html")
    cleaned = nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )
    demoted = _HEADING_TAG.sub(_demoted, cleaned)
    return Markup(demoted.strip())  # noqa: S704 - sanitized by nh3 just above


@lru_cache(maxsize=256)
def markdown_to_text(text: str) -> str:
    """The same content as :func:`markdown_to_html`, as readable plain text.

    Paragraphs are separated by blank lines, list items get bullets or numbers,
    and links keep their address in parentheses so that nothing is lost.
    """
    html = markdown_to_html(text)
    if not html:
        return ""
    converter = _TextConverter()
    converter.feed(str(html))
    converter.close()
    return converter.result()


class _TextConverter(HTMLParser):
    """Walks sanitized HTML (a known, small set of tags) and writes plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._line: list[str] = []
        self._prefix = ""  # a list item's indentation and marker
        self._blank_pending = False
        self._lists: list[list[int]] = []  # per open list: [next number], or [] for bullets
        self._links: list[tuple[str, int]] = []  # (href, where its text starts in the line)
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("ul", "ol"):
            # A list nested in an item continues that item's block; a top one starts a block.
            self._end_line() if self._lists else self._end_block()
            start = attributes.get("start") or "1"
            self._lists.append([int(start) if start.isdigit() else 1] if tag == "ol" else [])
        elif tag == "li":
            self._end_line()
            self._prefix = self._list_marker()
        elif tag == "br":
            self._end_line()
        elif tag == "hr":
            self._end_block()
            self._line.append("----")
            self._end_block()
        elif tag == "a":
            self._links.append((attributes.get("href") or "", len("".join(self._line))))
        elif tag in _BLOCKS:
            self._end_block()
            self._in_pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self._line)[start:].strip()
            shown = href.removeprefix("mailto:")
            if href and shown != label:
                self._line.append(f" ({shown})")
        elif tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._end_line() if self._lists else self._end_block()
        elif tag in _BLOCKS:
            self._in_pre = False
            self._end_block()

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            for index, line in enumerate(data.split("\n")):
                if index:
                    self._end_line()
                self._line.append(line)
            return
        self._line.append(data)

    def _list_marker(self) -> str:
        indent = "  " * (len(self._lists) - 1)
        if self._lists and self._lists[-1]:
            number = self._lists[-1][0]
            self._lists[-1][0] = number + 1
            return f"{indent}{number}. "
        return f"{indent}• "

    def _end_line(self) -> None:
        text = "".join(self._line)
        self._line = []
        content = text.rstrip() if self._in_pre else " ".join(text.split())
        if not content.strip():
            return
        line = self._prefix + content
        self._prefix = ""
        if self._blank_pending and self._lines:
            self._lines.append("")
        self._blank_pending = False
        self._lines.append(line)

    def _end_block(self) -> None:
        self._end_line()
        self._blank_pending = True

    def result(self) -> str:
        self._end_line()
        return "\n".join(self._lines)

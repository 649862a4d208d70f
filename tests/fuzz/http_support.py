"""Building hostile form posts, and reading what a refusal tells the person who sent it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import strategies as st

from tests.fuzz.strategies import hostile_text, one_in

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)

#: what a page that refuses a post may answer; anything else (a 5xx above all) is a bug
REFUSALS = frozenset({400, 403, 404, 405, 409, 413, 415, 422, 429})


class _Messages(HTMLParser):
    """Collects the text of alerts and error notes, and of headings and paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.alerts: list[str] = []
        self.headings: list[str] = []
        self.paragraphs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        marked = attributes.get("role") == "alert" or any(c.endswith("error") for c in classes)
        self.stack.append((tag, marked))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not data.strip() or not self.stack:
            return
        if any(marked for _, marked in self.stack):
            self.alerts.append(data.strip())
        tag = self.stack[-1][0]
        if tag == "h1":
            self.headings.append(data.strip())
        elif tag == "p":
            self.paragraphs.append(data.strip())


def human_message(response: httpx.Response) -> str:
    """What a refusal says to a person: an alert on the page, an error page's heading and
    first paragraph, or the ``detail`` of a JSON answer. ``""`` when it says nothing."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type == "application/json":
        detail: Any = response.json().get("detail")
        if isinstance(detail, list):
            return " ".join(str(item.get("msg", "")) for item in detail if isinstance(item, dict))
        return detail if isinstance(detail, str) else ""
    if media_type == "text/html":
        page = _Messages()
        page.feed(response.text)
        if page.alerts:
            return " ".join(page.alerts)
        if page.headings and page.paragraphs:
            return f"{page.headings[0]} {page.paragraphs[0]}"
        return ""
    return response.text if media_type == "text/plain" else ""


def assert_refusal_is_explained(response: httpx.Response) -> None:
    """A 4xx from the list of refusals, with a sentence a person can act on."""
    assert response.status_code in REFUSALS, (response.status_code, response.text[:500])
    message = human_message(response)
    assert len(message) >= 8 and re.search(r"[A-Za-z]{3}", message), (
        response.status_code,
        response.text[:1000],
    )


# -- bodies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Body:
    """A request body and the Content-Type it is sent with (``None``: no header)."""

    content: bytes
    content_type: str | None
    note: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers(self, base: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(base or {})
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        headers.update(self.extra_headers)
        return headers


BOUNDARY = "----fuzzboundary7MA4YWxkTrZu0gW"


def url_form(**fields: str) -> Body:
    """Fields as a browser posts a plain form."""
    return Body(urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded", "form")


def _quoted(text: str) -> str:
    """A name or filename in a Content-Disposition header, as browsers write it."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart(parts: list[Part], boundary: str = BOUNDARY) -> bytes:
    out = bytearray()
    for part in parts:
        disposition = f'form-data; name="{_quoted(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quoted(part.filename)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if part.content_type is not None:
            out += f"Content-Type: {part.content_type}\r\n".encode("utf-8", "replace")
        out += b"\r\n" + part.value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


FORM_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "APPLICATION/X-WWW-FORM-URLENCODED",
]
ODD_TYPES = [
    "text/plain",
    "application/json",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    f"multipart/form-data; boundary={BOUNDARY}x",
    "application/octet-stream",
    "application/x-www-form-urlencoded; charset=latin-1",
    "",
    "\x00",
]


@st.composite
def bodies(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> Body:
    """``pairs`` sent the way browsers do, or in a way no browser would."""
    how = draw(st.sampled_from(["form"] * 5 + ["multipart"] * 2 + ["latin-1", "json", "raw"]))
    if how == "form":
        return Body(urlencode(pairs).encode("ascii"), draw(st.sampled_from(FORM_TYPES)), how)
    if how == "multipart":
        parts = [Part(name, value.encode("utf-8")) for name, value in pairs]
        if draw(one_in(4)):  # a file where none is expected
            parts.append(Part("attachment", b"MZ\x90\x00", "evil.exe", "application/octet-stream"))
        return Body(multipart(parts), f"multipart/form-data; boundary={BOUNDARY}", how)
    if how == "latin-1":  # percent-escapes that are not UTF-8
        content = urlencode(pairs, encoding="latin-1", errors="replace").encode("ascii")
        return Body(content, FORM_TYPES[0], how)
    if how == "json":
        return Body(json.dumps(dict(pairs)).encode(), "application/json", how)
    return Body(
        draw(st.one_of(st.binary(max_size=200), hostile_text().map(lambda t: t.encode("utf-8")))),
        draw(st.sampled_from(FORM_TYPES + ODD_TYPES)),
        how,
    )


@st.composite
def field_pairs(
    draw: st.DrawFn, fields: dict[str, st.SearchStrategy[str]]
) -> list[tuple[str, str]]:
    """Some of ``fields`` with drawn values, maybe repeated, maybe with strangers among them."""
    pairs = [(name, draw(values)) for name, values in fields.items() if not draw(one_in(6))]
    if pairs and draw(one_in(4)):  # a field twice, the copy first or last
        name, _ = draw(st.sampled_from(pairs))
        copy = (name, draw(fields[name]))
        pairs.insert(draw(st.sampled_from([0, len(pairs)])), copy)
    if draw(one_in(5)):
        pairs.append((draw(hostile_text(20)), draw(hostile_text(20))))
    return pairs

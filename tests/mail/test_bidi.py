"""Right-to-left mail with left-to-right values: each value a run of its own.

Read on the real rendered mail of every kind in Arabic: in the HTML part every run of
Latin letters sits in ``<bdi>`` or an element with ``dir``; in the text part the
values are wrapped in U+2068 … U+2069, so an address or a link keeps its order.
"""

from __future__ import annotations

import pytest

from roundtable.mail.model import KINDS
from roundtable.mail.render import render
from tests.mail.bidi_check import unisolated_latin
from tests.mail.samples import arabic_contact, french_contact, sample_context

FSI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_arabic_html_isolates_every_latin_value(kind: str) -> None:
    rendered = render(kind, sample_context(kind, arabic_contact()))
    assert unisolated_latin(rendered.html) == []


def test_arabic_text_isolates_address_link_and_names() -> None:
    text = render("invitation", sample_context("invitation", arabic_contact())).text
    for value in (
        "405 East 42nd Street, New York, NY 10017, United States",
        "https://webtv.un.org/",
        "IOM New York",
    ):
        assert f"{FSI}{value}{PDI}" in text, value
    # each co-organizer apart, so the Arabic "و" joins nothing Latin
    assert f"{PDI} و{FSI}International Organization for Migration (IOM){PDI}" in text


def test_left_to_right_text_carries_no_isolates() -> None:
    text = render("invitation", sample_context("invitation", french_contact())).text
    assert FSI not in text and PDI not in text


def test_the_masthead_gives_each_host_a_line_of_its_own() -> None:
    """A long Latin name wrapped inside right-to-left text reads in the wrong order."""
    html = render("invitation", sample_context("invitation", arabic_contact())).html
    masthead = html.split('class="masthead"', 1)[1].split("</td>", 1)[0]
    assert masthead.endswith(
        "<bdi>IOM New York</bdi><br><bdi>International Organization for Migration (IOM)</bdi>"
        "<br><bdi>United Nations Alliance of Civilizations (UNAoC)</bdi>"
    )
    assert " و" not in masthead and "·" not in masthead

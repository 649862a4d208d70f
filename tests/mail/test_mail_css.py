"""The CSS inliner: class rules written into style attributes once, typos refused."""

from __future__ import annotations

import pytest

from roundtable.mail.css import StylesheetError, inline_classes, parse_stylesheet

RULES = parse_stylesheet(
    """
    /* a comment */
    .p { margin: 0 0 16px; }
    .link { color: #0b4f8a;
            text-decoration: underline }
    .hook {}
    """
)


def test_the_stylesheet_is_read_rule_by_rule() -> None:
    assert RULES == {
        "p": "margin: 0 0 16px",
        "link": "color: #0b4f8a; text-decoration: underline",
        "hook": "",
    }


def test_classes_become_style_attributes_and_keep_the_class() -> None:
    source = '<p class="p">Hi <a class="link" href="{{ url }}">there</a></p>'
    assert inline_classes(source, RULES) == (
        '<p class="p" style="margin: 0 0 16px">Hi '
        '<a class="link" style="color: #0b4f8a; text-decoration: underline" '
        'href="{{ url }}">there</a></p>'
    )


def test_rules_apply_in_order_and_an_existing_style_wins_last() -> None:
    source = '<td class="p link hook" style="color: red;" width="10">x</td>'
    assert inline_classes(source, RULES) == (
        '<td class="p link hook" style="margin: 0 0 16px; color: #0b4f8a; '
        'text-decoration: underline; color: red" width="10">x</td>'
    )


def test_tags_without_classes_and_jinja_outside_tags_are_untouched() -> None:
    source = '{% if x %}<br>{{ a > b }}<table role="presentation">{% endif %}'
    assert inline_classes(source, RULES) == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('<p class="missing">x</p>', "not in the stylesheet"),
        ('<p class="{{ kind }}">x</p>', "cannot use Jinja"),
        ('<p class="p" {% if x %}hidden{% endif %}>x</p>', "could not be read"),
    ],
)
def test_what_cannot_be_inlined_is_an_error(source: str, message: str) -> None:
    with pytest.raises(StylesheetError, match=message):
        inline_classes(source, RULES)


@pytest.mark.parametrize(
    "stylesheet",
    ["p { margin: 0 }", ".a .b { margin: 0 }", "@media print { .a { x: y } }", '.a { font: "X" }'],
)
def test_only_plain_class_rules_are_accepted(stylesheet: str) -> None:
    with pytest.raises(StylesheetError):
        parse_stylesheet(stylesheet)

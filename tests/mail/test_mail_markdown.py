"""Organizer Markdown: sanitized HTML, and a plain-text twin that keeps every link."""

from __future__ import annotations

from roundtable.presentation.markdown import markdown_to_html, markdown_to_text

SOURCE = """## Background

Cities host **most** migrants; see [the report](https://www.iom.int/wmr) or
write to <info@iom.example.org>.

<script>alert(1)</script><img src=x onerror=alert(2)>
[click](javascript:alert(3)) and <a href="https://ok.example.org" onclick="alert(4)">ok</a>

- Housing
- Work
    - Recognition of diplomas
- Schools

1. First
2. Second

> Quoted words
> on two lines.

    preformatted
      keeps its indent
"""


def test_scripts_handlers_and_dangerous_links_are_removed() -> None:
    html = str(markdown_to_html(SOURCE))
    assert "<script" not in html and "alert(1)" not in html
    assert "<img" not in html and "onerror" not in html
    assert "javascript:" not in html
    assert "onclick" not in html
    assert '<a href="https://ok.example.org" rel="noopener noreferrer">ok</a>' in html
    assert "<strong>most</strong>" in html
    assert "<h4>Background</h4>" in html, "## sits below the title and the mail's own headings"


def test_headings_are_demoted_two_levels_and_stop_at_h6() -> None:
    html = str(markdown_to_html("# One\n\n## Two\n\n#### Four\n\n###### Six\n\n<h1>Raw</h1>"))
    assert "<h3>One</h3>" in html and "<h4>Two</h4>" in html
    assert "<h6>Four</h6>" in html and "<h6>Six</h6>" in html
    assert "<h1>" not in html and "<h2>" not in html
    assert markdown_to_text("# One\n\n###### Six\ntext") == "One\n\nSix\n\ntext"


def test_the_text_version_keeps_structure_and_link_addresses() -> None:
    text = markdown_to_text(SOURCE)
    assert text.startswith(
        "Background\n\nCities host most migrants; see the report (https://www.iom.int/wmr) "
        "or write to info@iom.example.org."
    )
    assert "• Housing\n• Work\n  • Recognition of diplomas\n• Schools" in text
    assert "1. First\n2. Second" in text
    assert "Quoted words on two lines." in text
    assert "preformatted\n  keeps its indent" in text
    assert "alert(1)" not in text
    assert "\n\n\n" not in text


def test_empty_text_gives_empty_output() -> None:
    assert markdown_to_html("  \n") == ""
    assert markdown_to_text("") == ""


def test_ordered_lists_keep_their_start_number() -> None:
    assert markdown_to_text("3. third\n4. fourth") == "3. third\n4. fourth"

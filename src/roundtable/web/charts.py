"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched.

Each function takes plain numbers and returns markup ready for a template. Colours
come from CSS classes (``dashboard.css``), never from inline styles, so the pages
keep their strict Content-Security-Policy. Every chart carries a text alternative.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from markupsafe import Markup, escape

from roundtable.invitations.model import Status

#: the order in which reply states are stacked: settled answers first, silence last
STACK_ORDER = (
    Status.ACCEPTED,
    Status.TENTATIVE,
    Status.WAITLISTED,
    Status.DECLINED,
    Status.INVITED,
    Status.NOT_INVITED,
    Status.CANCELLED,
)

LABELS = {status: status.replace("_", " ") for status in Status.ALL}


def _number(value: float) -> str:
    """Coordinates with at most two decimals: short markup, stable in tests."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _segments(counts: Mapping[str, int], width: float) -> list[tuple[str, float, float, int]]:
    """(status, x, width, count) of each non-empty part of a bar ``width`` wide."""
    total = sum(max(0, counts.get(status, 0)) for status in STACK_ORDER)
    if total <= 0:
        return []
    parts: list[tuple[str, float, float, int]] = []
    x = 0.0
    for status in STACK_ORDER:
        count = max(0, counts.get(status, 0))
        if count:
            part = width * count / total
            parts.append((status, x, part, count))
            x += part
    return parts


def describe(counts: Mapping[str, int]) -> str:
    """The counts in words, for screen readers and tooltips."""
    words = [f"{counts[s]} {LABELS[s]}" for s in STACK_ORDER if counts.get(s, 0)]
    return ", ".join(words) or "nobody yet"


def progress_bar(counts: Mapping[str, int], *, width: int = 240, height: int = 12) -> Markup:
    """One bar split by reply status, as wide as the list."""
    label = describe(counts)
    parts = [
        f'<rect class="st-{status}" x="{_number(x)}" y="0" width="{_number(w)}" '
        f'height="{height}"><title>{count} {escape(LABELS[status])}</title></rect>'
        for status, x, w, count in _segments(counts, width)
    ]
    if not parts:
        parts = [f'<rect class="st-empty" x="0" y="0" width="{width}" height="{height}"/>']
    return Markup(  # noqa: S704 - numbers and escaped labels only
        f'<svg class="bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="none" role="img" aria-label="{escape(label)}">'
        + "".join(parts)
        + "</svg>"
    )


def cumulative(per_day: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Running totals: from new replies per day to replies so far at the end of each day."""
    total = 0
    points = []
    for day, count in sorted(per_day):
        total += count
        points.append((day, total))
    return points


def replies_over_time(
    per_day: Sequence[tuple[date, int]], *, invited: int, width: int = 640, height: int = 220
) -> Markup:
    """Replies received so far, day by day, against the number of invitations sent."""
    points = cumulative(per_day)
    if not points:
        return Markup('<p class="empty">No replies yet.</p>')
    left, right, top, bottom = 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(invited, points[-1][1], 1)
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)

    def x_of(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y_of(value: int) -> float:
        return top + plot_h * (1 - value / peak)

    # A step line: the total holds through each day, then rises at the next.
    path = [f"M{_number(x_of(first))},{_number(y_of(0))}"]
    previous = 0
    for day, total in points:
        x = _number(x_of(day))
        path.append(f"L{x},{_number(y_of(previous))}")
        path.append(f"L{x},{_number(y_of(total))}")
        previous = total
    if len(points) == 1:
        path.append(f"L{_number(left + plot_w)},{_number(y_of(previous))}")
    line = " ".join(path)
    baseline = _number(y_of(0))
    area = f"{line} L{_number(x_of(last) if len(points) > 1 else left + plot_w)},{baseline} Z"
    summary = f"{points[-1][1]} replies by {last.isoformat()}, out of {invited} invitations sent"
    ticks = []
    for value in sorted({0, peak // 2, peak}):
        y = _number(y_of(value))
        ticks.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{value}</text>'
        )
    if invited:
        y = _number(y_of(invited))
        ticks.append(
            f'<line class="target" x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}">'
            f"<title>{invited} invitations sent</title></line>"
        )
    labels = [
        f'<text class="tick" x="{left}" y="{height - 8}" text-anchor="start">'
        f"{first.isoformat()}</text>"
    ]
    if last != first:
        labels.append(
            f'<text class="tick" x="{left + plot_w}" y="{height - 8}" text-anchor="end">'
            f"{last.isoformat()}</text>"
        )
    dots = "".join(
        f'<circle class="dot" cx="{_number(x_of(day))}" cy="{_number(y_of(total))}" r="2.5">'
        f"<title>{day.isoformat()}: {total}</title></circle>"
        for day, total in points
    )
    return Markup(  # noqa: S704 - numbers and escaped labels only
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        + "".join(ticks)
        + f'<path class="area" d="{area}"/><path class="line" d="{line}"/>'
        + dots
        + "".join(labels)
        + "</svg>"
    )


#: the chart's label font is 12 px: an estimate of a character's width, wide (CJK) or not
_CHAR_WIDTH, _WIDE_CHAR_WIDTH, _LINE_HEIGHT = 7.2, 12.5, 14


def ranked(
    groups: Mapping[str, Mapping[str, int]], limit: int | None = None
) -> list[tuple[str, Mapping[str, int]]]:
    """The groups, largest first (then by name): the order the chart draws them in.

    With a ``limit``, only the first ``limit`` of them: a chart of the twelve largest of
    5,000 organizations need not put the other 4,988 in order.
    """

    # Each group's rank as a plain tuple, compared without calling back into Python.
    ranks = [(-sum(counts.values()), name) for name, counts in groups.items()]
    chosen = sorted(ranks) if limit is None else heapq.nsmallest(limit, ranks)
    return [(name, groups[name]) for _, name in chosen]


def text_width(text: str) -> float:
    """About how wide ``text`` is in the chart's label font."""
    return sum(
        _WIDE_CHAR_WIDTH if unicodedata.east_asian_width(char) in "WF" else _CHAR_WIDTH
        for char in text
    )


def wrap_label(text: str, room: float) -> list[str]:
    """``text`` in lines no wider than ``room``, broken at spaces, else anywhere: never cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word wider than a line (or a line of CJK) breaks anywhere
            if line and text_width(line + char) > room:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines or [""]


def breakdown(
    groups: Mapping[str, Mapping[str, int]],
    *,
    width: int = 640,
    row_height: int = 22,
    label_width: int = 230,
    limit: int = 25,
) -> Markup:
    """One stacked bar per group (organization, role), largest first, scaled together.

    The first ``limit`` groups are drawn; each label is written in full, on as many
    lines as it needs within ``label_width``. The page lists every group in a table.
    """
    if not groups:
        return Markup('<p class="empty">Nobody on the list yet.</p>')
    ordered = ranked(groups, limit)
    largest = max(sum(counts.values()) for _, counts in ordered) or 1
    count_width = 44
    bar_space = width - label_width - count_width
    rows = []
    y = 0.0
    for name, counts in ordered:
        lines = wrap_label(name, label_width - 8)
        height = max(row_height, len(lines) * _LINE_HEIGHT + 8)
        middle = y + height / 2
        total = sum(counts.values())
        bar_width = bar_space * total / largest
        rects = "".join(
            f'<rect class="st-{status}" x="{_number(label_width + x)}" '
            f'y="{_number(middle - (row_height - 8) / 2)}" '
            f'width="{_number(w)}" height="{row_height - 8}">'
            f"<title>{escape(name)}: {count} {escape(LABELS[status])}</title></rect>"
            for status, x, w, count in _segments(counts, bar_width)
        )
        first = middle - (len(lines) - 1) * _LINE_HEIGHT / 2
        spans = "".join(
            f'<tspan x="{label_width - 8}" y="{_number(first + n * _LINE_HEIGHT)}">'
            f"{escape(line)}</tspan>"
            for n, line in enumerate(lines)
        )
        rows.append(
            f'<g><text class="label" text-anchor="end" dominant-baseline="middle">'
            f"<title>{escape(name)}</title>{spans}</text>{rects}"
            f'<text class="tick" x="{_number(label_width + bar_width + 6)}" '
            f'y="{_number(middle)}" dominant-baseline="middle">{total}</text></g>'
        )
        y += height
    summary = "; ".join(f"{name}: {describe(counts)}" for name, counts in ordered)
    return Markup(  # noqa: S704 - numbers and escaped labels only
        f'<div class="chart-box"><svg class="chart breakdown" viewBox="0 0 {width} {_number(y)}" '
        f'role="img" aria-label="{escape(summary)}">' + "".join(rows) + "</svg></div>"
    )


def legend() -> Markup:
    """The colour of each reply status, as a list the charts can point to."""
    items = "".join(
        f'<li><svg class="swatch" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">'
        f'<rect class="st-{status}" width="10" height="10"/></svg>{escape(LABELS[status])}</li>'
        for status in STACK_ORDER
    )
    return Markup(f'<ul class="legend">{items}</ul>')  # noqa: S704 - escaped labels only


#: how a group table may be sorted: by name, by total, or by one status's count
GROUP_SORTS = ("name", "total", *STACK_ORDER)


def group_table(
    groups: Mapping[str, Mapping[str, int]], sort: str = "total", descending: bool = True
) -> list[tuple[str, int, Mapping[str, int]]]:
    """(name, total, counts) of every group, sorted for the full table beside a chart."""
    rows = [(name, sum(counts.values()), counts) for name, counts in groups.items()]
    by_name = sort == "name"
    rows.sort(key=lambda row: row[0].casefold(), reverse=descending and by_name)
    if by_name:
        return rows
    # By a count, ties by name: the names in order, then sorted by the count (a stable sort
    # keeps the names in order among equal counts; ``reverse`` keeps it stable too). Two
    # sorts on simple keys are quicker than one on a tuple built in Python for each of
    # thousands.
    if sort in STACK_ORDER:
        rows.sort(key=lambda row: row[2].get(sort, 0), reverse=descending)
    else:
        rows.sort(key=itemgetter(1), reverse=descending)
    return rows


@dataclass(frozen=True)
class TablePage:
    """One page of a long table: its rows, which page it is, and how many there are."""

    rows: Sequence[tuple[str, int, Mapping[str, int]]]
    page: int
    pages: int
    total: int
    #: the place of the page's first row among all of them, from 1
    first: int


def table_page(
    rows: Sequence[tuple[str, int, Mapping[str, int]]], page: int, size: int
) -> TablePage:
    """Page ``page`` (from 1, past the end: the last) of ``rows``, ``size`` rows a page.

    An event of 5,000 organizations drew every one of them into its page (a megabyte of
    HTML, most of the page's time); the table now shows one page at a time.
    """
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    return TablePage(rows[start : start + size], page, pages, len(rows), start + 1)

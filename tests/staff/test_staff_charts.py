"""The server-drawn charts: right proportions, escaped labels, nothing that needs a script."""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from roundtable.web.charts import (
    breakdown,
    cumulative,
    group_table,
    legend,
    progress_bar,
    ranked,
    replies_over_time,
)


def widths(svg: str) -> dict[str, float]:
    return {cls: float(w) for cls, w in re.findall(r'class="st-(\w+)"[^>]*width="([\d.]+)"', svg)}


def test_a_progress_bar_splits_its_width_by_status() -> None:
    svg = str(progress_bar({"accepted": 3, "declined": 1, "invited": 4}, width=400))

    ElementTree.fromstring(svg)  # well-formed
    assert widths(svg) == {"accepted": 150.0, "declined": 50.0, "invited": 200.0}
    assert 'aria-label="3 accepted, 1 declined, 4 invited"' in svg
    assert "st-empty" in str(progress_bar({}))


def test_replies_add_up_day_by_day() -> None:
    per_day = [(date(2027, 9, 3), 2), (date(2027, 9, 1), 5), (date(2027, 9, 2), 0)]
    assert cumulative(per_day) == [
        (date(2027, 9, 1), 5),
        (date(2027, 9, 2), 5),
        (date(2027, 9, 3), 7),
    ]
    svg = str(replies_over_time(per_day, invited=10))
    ElementTree.fromstring(svg)
    assert re.findall(r"<title>([\d-]+: \d+)</title>", svg) == [
        "2027-09-01: 5",
        "2027-09-02: 5",
        "2027-09-03: 7",
    ]
    assert "7 replies by 2027-09-03, out of 10 invitations sent" in svg
    assert "No replies yet" in str(replies_over_time([], invited=3))


def test_breakdown_labels_are_escaped_and_bars_share_one_scale() -> None:
    groups = {"<script>alert(1)</script>": {"accepted": 2}, "IOM": {"accepted": 2, "declined": 2}}
    svg = str(breakdown(groups, width=500, label_width=100))

    ElementTree.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    iom, other = (float(w) for w in re.findall(r'class="st-accepted"[^>]*width="([\d.]+)"', svg))
    assert iom == other  # two accepted are as long in both rows: one scale for all
    assert "style=" not in svg + str(legend())  # colours come from the stylesheet (CSP)


_GROUPS = st.dictionaries(
    st.text(alphabet="aAbBßs ", min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(("accepted", "declined", "invited")), st.integers(0, 3)),
    max_size=30,
)


@given(_GROUPS, st.integers(0, 40))
def test_the_chart_of_the_largest_groups_is_the_head_of_their_full_ranking(
    groups: dict[str, dict[str, int]], limit: int
) -> None:
    assert ranked(groups, limit) == ranked(groups)[:limit]


@given(_GROUPS, st.sampled_from(("total", "name", "accepted", "declined")), st.booleans())
def test_the_table_is_sorted_by_its_column_then_by_name_as_written(
    groups: dict[str, dict[str, int]], sort: str, descending: bool
) -> None:
    rows = group_table(groups, sort, descending)
    # The order spelled out: by name (casefolded), then, stably, by the column.
    expected = [(name, sum(counts.values()), counts) for name, counts in groups.items()]
    expected.sort(key=lambda row: row[0].casefold(), reverse=descending and sort == "name")
    if sort != "name":
        sign = -1 if descending else 1
        expected.sort(key=lambda row: sign * (row[1] if sort == "total" else row[2].get(sort, 0)))
    assert rows == expected

"""``python -m bench`` (``make bench``): every benchmark in turn, then one table of figures.

Runs fanout (2,000 invitations), the memory run (fanout with 20,000 invitations, for
the worker's memory), rsvp, schedule and report, each through its own ``main``. The
fan-out runs go first: right after the report's 100,000-invitation database, a fan-out
ran markedly slower on a two-core machine (see ``bench/README.md``). Each figure is
shown beside its baseline measured in the same run and its target; the table is
printed and written to ``bench/results/latest.md``. A benchmark that fails does not
stop the others: its error takes its place in the table. Usage:

    python -m bench [--only fanout,memory,rsvp,schedule,report] [--skip-large]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

FANOUT_INVITATIONS = 2000
MEMORY_INVITATIONS = 20_000
RSVP_CONNECTIONS = 32


# --- targets and figures: pure, from the benchmarks' returned figures to table rows ---------


@dataclass(frozen=True)
class Target:
    """A bound on a figure: ``value <= limit`` (or ``>=`` when ``at_least``), and how to say it."""

    text: str
    limit: float
    at_least: bool = False

    def met_by(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit


#: Pipeline throughput as a share of the SMTP sink's own ceiling: composing a message is
#: mostly the mailing's invariant parts (the VEVENT frame, event-wide template blocks, encoded
#: headers), which need building once, so the pipeline should keep an SMTP server at least
#: 70% as busy as a bare client feeding it ready messages (the speed issue; 0.51–0.60 before).
FANOUT_SHARE_OF_CEILING = Target("≥ 70% of the ceiling", 0.7, at_least=True)
#: A Celery worker (4 prefork children, as compose.yaml runs it) sending 20,000 invitations
#: must fit a small VM: all its processes together, each shared page counted once.
WORKER_MEMORY = Target("< 300 MiB", 300)
#: A first reply (update, reply log, outbox row, ring) should cost little more than showing
#: the page: a bare endpoint does no work, so the page, measured in the same run, is the
#: yardstick for replies (the speed issue; Indico's reply reached about half its page's rate).
RSVP_REPLY_SHARE_OF_GET = Target("≥ 0.65 of GET", 0.65, at_least=True)
#: Even with 32 replies in flight at once, nobody waits noticeably for theirs.
RSVP_REPLY_P99 = Target("p99 < 150 ms", 150)
#: 100 replies a second for 20 seconds is a burst far beyond any roundtable's (a whole list
#: of a few hundred answering within seconds); each should still be recorded at once.
RSVP_OPEN_LOOP_P99 = Target("p99 < 50 ms", 50)
#: The scheduling issue's target: 1,000 due rows among 100,000 found and enqueued.
DISPATCH_TIME = Target("< 200 ms", 200)
#: Staff open the report and the event page over and over while replies come in; at 100,000
#: invitations they should still feel immediate (the speed issue): the report, a handful of
#: counts, under 60 ms; the event page, which also lists a page of invitees, under 100 ms.
REPORT_TIME = Target("< 60 ms", 60)
PAGE_TIME = Target("< 100 ms", 100)
NO_FAILURES = Target("0", 0)


@dataclass(frozen=True)
class Figure:
    """One measured figure: ``number`` is what the target judges, ``shown`` what the table says."""

    name: str
    shown: str
    number: float
    baseline: str = "—"
    target: Target | None = None


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    benchmark: str
    figure: str
    value: str
    baseline: str
    target: str
    met: str


def all_of(count: int) -> Target:
    return Target(f"all {count:,}", count, at_least=True)


def fanout_figures(result: Mapping[str, Any]) -> list[Figure]:
    invitations = int(result["invitations"])
    ceiling = f"raw SMTP ceiling {result['ceiling_per_s']}/s (one smtplib connection)"
    return [
        Figure(
            "invitations received by the SMTP sink",
            f"{result['received']:,} of {invitations:,}",
            result["received"],
            target=all_of(invitations),
        ),
        Figure(
            f"pipeline throughput, {invitations:,} invitations",
            f"{result['pipeline_per_s']}/s ({result['ratio']:.0%} of the ceiling)",
            result["ratio"],
            ceiling,
            FANOUT_SHARE_OF_CEILING,
        ),
        worker_memory_figure(result),
    ]


def worker_memory_figure(result: Mapping[str, Any], baseline: str = "—") -> Figure:
    """The whole worker's memory at the end of the run: every process, shared pages once."""
    return Figure(
        f"worker memory, {result['invitations']:,} invitations (its "
        f"{result['worker_processes']} processes together, PSS)",
        f"{result['worker_total_pss_mb']} MiB (largest process: peak RSS "
        f"{result['worker_peak_rss_mb']} MiB)",
        result["worker_total_pss_mb"],
        baseline,
        WORKER_MEMORY,
    )


def memory_figures(
    result: Mapping[str, Any], smaller_run: Mapping[str, Any] | None = None
) -> list[Figure]:
    """The large fan-out; the 2,000-invitation run of the same session is its baseline."""
    baseline = (
        f"{smaller_run['worker_total_pss_mb']} MiB with {smaller_run['invitations']:,} invitations"
        if smaller_run
        else "—"
    )
    invitations = int(result["invitations"])
    return [
        worker_memory_figure(result, baseline),
        Figure(
            "invitations received by the SMTP sink",
            f"{result['received']:,} of {invitations:,}",
            result["received"],
            target=all_of(invitations),
        ),
        Figure(
            "pipeline throughput",
            f"{result['pipeline_per_s']}/s ({result['ratio']:.0%} of the ceiling)",
            result["ratio"],
            f"raw SMTP ceiling {result['ceiling_per_s']}/s",
            FANOUT_SHARE_OF_CEILING,
        ),
    ]


def rsvp_figures(result: Mapping[str, Any]) -> list[Figure]:
    """The page beside the bare endpoint; first replies beside the page; the open-loop run."""
    bare = result["bare"]
    bare_text = f"bare endpoint {bare['per_s']}/s, p99 {bare['p99_ms']} ms"
    figures = []
    for run in result["runs"]:
        database, get, post, opened = run["database"], run["get"], run["post"], run["open"]
        share = post["per_s"] / get["per_s"] if get["per_s"] else 0.0
        get_text = f"GET {get['per_s']}/s"
        figures += [
            Figure(
                f"GET /rsvp/{{token}} on {database}, {RSVP_CONNECTIONS} connections",
                f"{get['per_s']}/s ({get['per_s'] / bare['per_s']:.0%} of bare), "
                f"p50 {get['p50_ms']} ms, p99 {get['p99_ms']} ms",
                get["per_s"],
                bare_text,
            ),
            Figure(
                f"first replies on {database}, {RSVP_CONNECTIONS} connections: throughput",
                f"{post['per_s']}/s ({share:.2f} of GET)",
                share,
                get_text,
                RSVP_REPLY_SHARE_OF_GET,
            ),
            Figure(
                f"first replies on {database}, {RSVP_CONNECTIONS} connections: latency",
                f"p50 {post['p50_ms']} ms, p99 {post['p99_ms']} ms",
                post["p99_ms"],
                f"GET p99 {get['p99_ms']} ms",
                RSVP_REPLY_P99,
            ),
            Figure(
                f"first replies on {database}, {opened['rate']:g}/s open loop, a connection each",
                f"p50 {opened['p50_ms']} ms, p99 {opened['p99_ms']} ms, max {opened['max_ms']} ms",
                opened["p99_ms"],
                "—",
                RSVP_OPEN_LOOP_P99,
            ),
        ]
        failures = get["failures"] + post["failures"] + opened["failures"]
        figures.append(
            Figure(f"failed requests on {database}", str(failures), failures, "—", NO_FAILURES)
        )
    return figures


def schedule_figures(result: Mapping[str, Any]) -> list[Figure]:
    due = int(result["due"])
    return [
        Figure(
            f"dispatch_due over {result['rows']:,} pending rows, {due:,} due",
            f"{result['dispatch_ms_median']} ms median (max {result['dispatch_ms_max']} ms)",
            result["dispatch_ms_median"],
            f"bare indexed SELECT {result['select_ms_median']} ms",
            DISPATCH_TIME,
        ),
        Figure(
            "due rows announced",
            f"{result['announced']:,} of {due:,}",
            result["announced"],
            target=all_of(due),
        ),
    ]


def report_figures(result: Mapping[str, Any]) -> list[Figure]:
    size = f"{result['invitations']:,} invitations, {result['messages']:,} messages"
    count = f"count(*) {result['count_ms_median']} ms"
    return [
        Figure(
            f"event_report, {size}",
            f"{result['report_ms_median']} ms median (max {result['report_ms_max']} ms)",
            result["report_ms_median"],
            count,
            REPORT_TIME,
        ),
        Figure(
            "GET /dashboard/events/{slug}",
            f"{result['page_ms_median']} ms median (max {result['page_ms_max']} ms, "
            f"{result['page_bytes'] // 1024} KiB)",
            result["page_ms_median"],
            f"{count}; GET /healthz {result['healthz_ms_median']} ms",
            PAGE_TIME,
        ),
        Figure(
            "where the page's time goes (its queries, in-process)",
            ", ".join(f"{name} {ms} ms" for name, ms in result["page_queries_ms"].items())
            + f"; together {sum(result['page_queries_ms'].values()):.1f} ms",
            sum(result["page_queries_ms"].values()),
        ),
    ]


def rows_for(benchmark: str, figures: list[Figure]) -> list[Row]:
    return [
        Row(
            benchmark,
            figure.name,
            figure.shown,
            figure.baseline,
            figure.target.text if figure.target else "—",
            ("yes" if figure.target.met_by(figure.number) else "**no**") if figure.target else "—",
        )
        for figure in figures
    ]


def error_row(benchmark: str, error: BaseException) -> Row:
    text = str(error).strip() or type(error).__name__
    first_line = text.splitlines()[0][:300]
    return Row(benchmark, "—", f"error: {type(error).__name__}: {first_line}", "—", "—", "error")


def markdown_table(rows: list[Row]) -> str:
    header = ("benchmark", "figure", "value", "baseline (same run)", "target", "met")
    lines = [_markdown_line(header), _markdown_line(("---",) * len(header))]
    lines.extend(
        _markdown_line((r.benchmark, r.figure, r.value, r.baseline, r.target, r.met)) for r in rows
    )
    return "\n".join(lines)


def _markdown_line(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


# --- running them ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    """A benchmark module's ``main`` with its arguments, and how its figures read."""

    module: str
    argv: tuple[str, ...]
    figures: Callable[[Mapping[str, Any], Mapping[str, Mapping[str, Any]]], list[Figure]]


BENCHMARKS: dict[str, Benchmark] = {
    "fanout": Benchmark(
        "bench.fanout",
        ("--count", str(FANOUT_INVITATIONS)),
        lambda result, _: fanout_figures(result),
    ),
    "memory": Benchmark(
        "bench.fanout",
        ("--count", str(MEMORY_INVITATIONS)),
        lambda result, others: memory_figures(result, others.get("fanout")),
    ),
    "rsvp": Benchmark(
        "bench.rsvp",
        ("--concurrency", str(RSVP_CONNECTIONS)),
        lambda result, _: rsvp_figures(result),
    ),
    "schedule": Benchmark("bench.schedule", (), lambda result, _: schedule_figures(result)),
    "report": Benchmark("bench.report", (), lambda result, _: report_figures(result)),
}


@contextmanager
def own_environment() -> Iterator[None]:
    """Each benchmark points ``ROUNDTABLE_*`` at its own databases; undo that after it."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_one(name: str) -> dict[str, Any] | BaseException:
    """The benchmark's figures, or the error that stopped it (with its traceback printed)."""
    benchmark = BENCHMARKS[name]
    print(f"--- {name}: python -m {' '.join([benchmark.module, *benchmark.argv])}", flush=True)
    try:
        with own_environment():
            result: dict[str, Any] = importlib.import_module(benchmark.module).main(
                list(benchmark.argv)
            )
            return result
    except (Exception, SystemExit) as error:
        traceback.print_exc()
        return error


def results_table(outcomes: Mapping[str, dict[str, Any] | BaseException]) -> list[Row]:
    succeeded = {name: o for name, o in outcomes.items() if not isinstance(o, BaseException)}
    rows: list[Row] = []
    for name, outcome in outcomes.items():
        if isinstance(outcome, BaseException):
            rows.append(error_row(name, outcome))
            continue
        try:
            rows.extend(rows_for(name, BENCHMARKS[name].figures(outcome, succeeded)))
        except (KeyError, TypeError, ValueError) as error:  # a benchmark changed its figures
            rows.append(error_row(name, error))
    return rows


def document(rows: list[Row], command: str, now: datetime) -> str:
    return (
        "# Benchmark results\n\n"
        f"`{command}` at {now:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.\n\n" + markdown_table(rows) + "\n"
    )


def selection(only: str, skip_large: bool) -> list[str]:
    """The benchmarks to run, in the usual order; unknown names are a usage error."""
    wanted = [name.strip() for name in only.split(",") if name.strip()] if only else []
    unknown = sorted(set(wanted) - set(BENCHMARKS))
    if unknown:
        raise ValueError(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    chosen = [name for name in BENCHMARKS if not wanted or name in wanted]
    return [name for name in chosen if not (skip_large and name == "memory")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated, from: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--skip-large",
        action="store_true",
        help=f"leave out the memory run ({MEMORY_INVITATIONS:,} invitations, several minutes)",
    )
    args = parser.parse_args(argv)
    try:
        names = selection(args.only, args.skip_large)
    except ValueError as error:
        parser.error(str(error))
    outcomes = {name: run_one(name) for name in names}
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    text = document(results_table(outcomes), command, datetime.now(UTC))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written to {(RESULTS_DIR / 'latest.md').relative_to(RESULTS_DIR.parents[1])}")
    return 1 if any(isinstance(o, BaseException) for o in outcomes.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

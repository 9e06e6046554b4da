"""`slodrift baseline capture` and `slodrift report`: the batch commands against a Prometheus."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from slodrift.issues import print_issues


def cmd_capture(args: argparse.Namespace) -> int:
    """Compute a baseline from Prometheus over the release day and write it atomically."""
    from slodrift.generator.spec import SpecError, load_spec
    from slodrift.report.baseline import BaselineError, write_baseline
    from slodrift.report.capture import capture_baseline
    from slodrift.report.prometheus_api import PrometheusClient, PrometheusError

    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        print_issues(exc.issues)
        return EXIT_BAD_INPUT
    try:
        start, end = _time(args.start), _time(args.end)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    queries = {(s.name, i.name): i.query for s in spec.services for i in s.indicators}
    units = {(s.name, i.name): i.unit for s in spec.services for i in s.indicators}
    traffic = {
        (s.name, i.name): i.traffic_query for s in spec.services for i in s.indicators if i.traffic_query
    }
    if not queries:
        print(f"error: {args.spec}: no service has indicators; nothing to capture", file=sys.stderr)
        return EXIT_BAD_INPUT
    client = PrometheusClient(
        args.prometheus_url, read_timeout=args.timeout, max_response_bytes=args.max_response_mib << 20
    )
    try:
        baseline = capture_baseline(
            client,
            queries,
            start,
            end,
            args.step,
            units=units,
            traffic=traffic,
            release_name=spec.release.name,
            release_version=spec.release.version,
        )
    except (PrometheusError, BaselineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for w in baseline.warnings:  # Prometheus' warnings (said so in each) and the profile's coverage
        print(f"warning: {w}", file=sys.stderr)
    try:
        write_baseline(Path(args.out), baseline)
    except BaselineError as exc:
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"wrote {args.out}: {len(baseline.values)} baseline value(s) from {start.isoformat()} to "
        f"{end.isoformat()} ({client.queries} queries)"
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Daily and weekly stability reports from what Prometheus recorded; partial rather than wrong."""
    from slodrift.generator.spec import SpecError, load_spec
    from slodrift.report import stability
    from slodrift.report import writers as rpt
    from slodrift.report.groups import group_text
    from slodrift.report.prometheus_api import PrometheusClient

    from slodrift.atomic import OutputError

    try:
        spec = load_spec(args.spec)
        at = _time(args.at) if args.at else datetime.now(UTC)
    except SpecError as exc:
        print_issues(exc.issues)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        client = PrometheusClient(
            args.prometheus_url,
            read_timeout=args.timeout,
            max_retries=args.max_retries,
            max_response_bytes=args.max_response_mib << 20,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    start = stability.watch_start_of(spec, at)
    if stability.finished_days(start, at, spec.release.watch_days) == 0:
        print(
            f"error: no finished day of the watch at {at.isoformat()} (watch starts {start.isoformat()})",
            file=sys.stderr,
        )
        return EXIT_FAILED

    def show(done: int, total: int, what: str) -> None:
        # One line redrawn in place: which signal, how far, for how many services.
        bar = "#" * (20 * done // total) + "." * (20 - 20 * done // total)
        print(
            f"\r[{bar}] {done}/{total} {what:<24} ({len(spec.services)} services)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    tty = sys.stderr.isatty() and len(spec.services) > 5
    result = stability.run(spec, client, at, args.step, show if tty else None)
    if tty:
        show(1, 1, "done")
        print(file=sys.stderr)
    try:
        written = rpt.write_reports(Path(args.out), result, with_html=not args.no_html)
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for name, wk in result.weeks.items():
        score = "n/a" if wk.stability_score is None else f"{wk.stability_score:.1f}"
        worst = ""
        if wk.groups:
            g = wk.groups[0]
            worst = f"; worst group {group_text(g.labels)} of {g.slo}: {g.compliance_percent:.1f}% compliant"
        print(
            f"{name}: score {score} ({wk.grade}), {wk.days_with_degradation} day(s) degraded, "
            f"rollback {'RECOMMENDED' if wk.rollback_recommended else 'not recommended'}{worst}"
        )
    print(
        f"wrote {len(written)} file(s) under {args.out}/{' (PARTIAL: data missing)' if result.partial else ''}"
        f" with {result.queries} queries"
    )
    if all(w.days_with_data == 0 for w in result.weeks.values()):
        print(
            "error: no data at all for any service; the report says so, but it is not a result",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _time(text: str) -> datetime:
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time or a Unix timestamp") from None
    if ts.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; use UTC with a trailing Z")
    return ts.astimezone(UTC)


def _mib(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of MiB from 1 to 65536")
    return int(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the batch subcommands to the umbrella `slodrift` parser."""
    from slodrift.report import commands

    commands.register(sub)  # backfill, backtest
    b = sub.add_parser("baseline", help="baseline files")
    bsub = b.add_subparsers(dest="baseline_command", required=True, metavar="COMMAND")
    c = bsub.add_parser("capture", help="compute a baseline from Prometheus over the release day")
    c.add_argument("spec", help="the slodrift spec")
    c.add_argument("--prometheus-url", required=True)
    c.add_argument("--from", dest="start", required=True, help="start (RFC 3339 or Unix time)")
    c.add_argument("--to", dest="end", required=True, help="end (RFC 3339 or Unix time)")
    c.add_argument("--step", default="5m", help="query_range step (default 5m)")
    c.add_argument("--timeout", type=float, default=30.0, help="seconds per read (a request: twice that)")
    c.add_argument(
        "--max-response-mib", type=_mib, default=64, help="MiB per response, on the wire and decompressed"
    )
    c.add_argument("--out", required=True, help="baseline JSON to write (a .sha256 is written next to it)")
    c.set_defaults(func=cmd_capture)
    r = sub.add_parser("report", help="daily and weekly stability reports from Prometheus")
    r.add_argument("spec", help="the slodrift spec")
    r.add_argument("--prometheus-url", required=True)
    r.add_argument(
        "--out", required=True, help="directory for day_NN_summary.json, weekly_summary.{json,md,html}"
    )
    r.add_argument("--at", default=None, help="report as of this time (RFC 3339 or Unix time; default now)")
    r.add_argument(
        "--step", type=int, default=300, help="seconds between evaluations read back (default 300)"
    )
    r.add_argument("--timeout", type=float, default=30.0, help="seconds per read (a request: twice that)")
    r.add_argument(
        "--max-response-mib", type=_mib, default=64, help="MiB per response, on the wire and decompressed"
    )
    r.add_argument("--max-retries", type=int, default=3, help="retries per query on 5xx/connection errors")
    r.add_argument("--no-html", action="store_true", help="skip the HTML page (no matplotlib needed)")
    r.set_defaults(func=cmd_report)

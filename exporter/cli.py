"""`slodrift serve` (also `slodrift-exporter`) and `slodrift baseline capture`: the run-time commands.

Start-up with a bad spec or baseline exits 2 with the problem; at run time (SIGHUP, POST /-/reload) a
bad file is reported in the log and the `slodrift_config_*` gauges while the last good state is served.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

DEFAULT_PORT = 9877  # outside Prometheus' own 9090-9099; documented in the README

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("slodrift.exporter")


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """Prometheus-style flags, shared by `slodrift serve` and `slodrift-exporter`."""
    p.add_argument("--config.file", dest="config_file", required=True, help="the slodrift spec (YAML)")
    p.add_argument("--baseline.file", dest="baseline_file", required=True, help="the baseline (JSON)")
    p.add_argument(
        "--baseline.service",
        dest="baseline_service",
        default=None,
        help="service a seed-format ga_kpi_summary.json describes",
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen",
        default=f":{DEFAULT_PORT}",
        help=f"address to listen on (default :{DEFAULT_PORT})",
    )
    p.add_argument("--web.tls-cert-file", dest="certfile", default=None, help="TLS certificate (PEM)")
    p.add_argument("--web.tls-key-file", dest="keyfile", default=None, help="TLS private key (PEM)")
    p.add_argument(
        "--log.level", dest="log_level", default="info", choices=["debug", "info", "warning", "error"]
    )
    p.add_argument(
        "--scoring.prometheus-url",
        dest="scoring_url",
        default=None,
        help="Prometheus to read recorded series from for the stability scores (off when unset)",
    )
    p.add_argument(
        "--scoring.interval",
        dest="scoring_interval",
        type=float,
        default=300.0,
        help="seconds between scoring runs (never inside a scrape)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Load, then serve until SIGTERM/SIGINT; SIGHUP reloads."""
    # Imported here so `slodrift generate` never loads the exporter's run-time modules.
    from prometheus_client import CollectorRegistry

    from exporter.collector import SlodriftCollector
    from exporter.server import make_handler, make_server, parse_listen_address
    from exporter.state import StateHolder

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="ts=%(asctime)s level=%(levelname)s msg=%(message)s",
    )
    try:
        address = parse_listen_address(args.listen)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    state = StateHolder(Path(args.config_file), Path(args.baseline_file), args.baseline_service)
    if not state.reload():
        print(f"error: {state.status.last_error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    registry = CollectorRegistry()
    scores = None
    if args.scoring_url:
        from exporter.scorer import Scorer

        scores = Scorer(state, args.scoring_url, args.scoring_interval)
    registry.register(SlodriftCollector(state, scores.metrics if scores else None))
    try:
        server = make_server(
            address, make_handler(registry, state, state.reload), args.certfile, args.keyfile
        )
    except (OSError, ValueError) as exc:
        print(f"error: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    stop = threading.Event()
    reload_requested = threading.Event()

    def reloader() -> None:
        # One worker: a storm of SIGHUPs coalesces into at most one reload after the one running.
        while not stop.is_set():
            if reload_requested.wait(0.5):
                reload_requested.clear()
                state.reload()

    threading.Thread(target=reloader, name="reloader", daemon=True).start()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        reload_requested.set()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if scores:
        scores.start(stop)
    log.info("listening on %s:%d", *server.server_address[:2])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return EXIT_OK


def cmd_capture(args: argparse.Namespace) -> int:
    """Compute a baseline from Prometheus over the release day and write it atomically."""
    from exporter.baseline import BaselineError, capture_baseline, write_baseline
    from exporter.prometheus_api import PrometheusClient, PrometheusError
    from generator.spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        start, end = _time(args.start), _time(args.end)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    queries = {(s.name, i.name): i.query for s in spec.services for i in s.indicators}
    units = {(s.name, i.name): i.unit for s in spec.services for i in s.indicators}
    if not queries:
        print(f"error: {args.spec}: no service has indicators; nothing to capture", file=sys.stderr)
        return EXIT_BAD_INPUT
    client = PrometheusClient(args.prometheus_url, read_timeout=args.timeout)
    try:
        baseline = capture_baseline(
            client,
            queries,
            start,
            end,
            args.step,
            units=units,
            release_name=spec.release.name,
            release_version=spec.release.version,
        )
    except (PrometheusError, BaselineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    write_baseline(Path(args.out), baseline)
    print(
        f"wrote {args.out}: {len(baseline.values)} baseline value(s) from {start.isoformat()} to "
        f"{end.isoformat()} ({client.queries} queries)"
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Daily and weekly stability reports from what Prometheus recorded; partial rather than wrong."""
    from exporter import report as rpt
    from exporter import stability
    from exporter.prometheus_api import PrometheusClient
    from generator.spec import SpecError, load_spec

    try:
        spec = load_spec(args.spec)
        at = _time(args.at) if args.at else datetime.now(UTC)
    except SpecError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        client = PrometheusClient(
            args.prometheus_url, read_timeout=args.timeout, max_retries=args.max_retries
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
    written = rpt.write_reports(Path(args.out), result, with_html=not args.no_html)
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for name, wk in result.weeks.items():
        score = "n/a" if wk.stability_score is None else f"{wk.stability_score:.1f}"
        print(
            f"{name}: score {score} ({wk.grade}), {wk.days_with_degradation} day(s) degraded, "
            f"rollback {'RECOMMENDED' if wk.rollback_recommended else 'not recommended'}"
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the exporter's subcommands to the umbrella `slodrift` parser."""
    p = sub.add_parser("serve", help="run the exporter (baseline and stability gauges)")
    add_serve_arguments(p)
    p.set_defaults(func=cmd_serve)
    b = sub.add_parser("baseline", help="baseline files")
    bsub = b.add_subparsers(dest="baseline_command", required=True, metavar="COMMAND")
    c = bsub.add_parser("capture", help="compute a baseline from Prometheus over the release day")
    c.add_argument("spec", help="the slodrift spec")
    c.add_argument("--prometheus-url", required=True)
    c.add_argument("--from", dest="start", required=True, help="start (RFC 3339 or Unix time)")
    c.add_argument("--to", dest="end", required=True, help="end (RFC 3339 or Unix time)")
    c.add_argument("--step", default="5m", help="query_range step (default 5m)")
    c.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
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
    r.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    r.add_argument("--max-retries", type=int, default=3, help="retries per query on 5xx/connection errors")
    r.add_argument("--no-html", action="store_true", help="skip the HTML page (no matplotlib needed)")
    r.set_defaults(func=cmd_report)


def main(argv: list[str] | None = None) -> int:
    """`slodrift-exporter`: the same as `slodrift serve`."""
    parser = argparse.ArgumentParser(prog="slodrift-exporter", description="slodrift exporter")
    add_serve_arguments(parser)
    return cmd_serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

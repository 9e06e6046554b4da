"""`slodrift serve` (also `slodrift-exporter`): the long-running exporter.

Start-up with a bad spec or baseline exits 2 with the problem; at run time (SIGHUP, POST /-/reload) a
bad file is reported in the log and the `slodrift_config_*` gauges while the last good state is served.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from slodrift.exporter import DEFAULT_PORT

from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_OK

log = logging.getLogger("slodrift.exporter")


def _positive_int(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 86400 * 365:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


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
    p.add_argument(
        "--web.enable-lifecycle",
        dest="lifecycle",
        action="store_true",
        help="enable POST/PUT /-/reload, as Prometheus' flag does (SIGHUP always reloads)",
    )
    p.add_argument(
        "--web.max-connections",
        dest="max_connections",
        type=_positive_int,
        default=256,
        help="connections served at once; more are closed at once (default 256)",
    )
    p.add_argument(
        "--web.idle-timeout",
        dest="idle_timeout",
        type=_positive_float,
        default=60.0,
        help="seconds a kept-alive connection may stay idle (default 60)",
    )
    p.add_argument(
        "--web.read-header-timeout",
        dest="header_timeout",
        type=_positive_float,
        default=10.0,
        help="a request's line and headers must arrive within the idle timeout plus this (default 10)",
    )
    p.add_argument(
        "--web.max-header-bytes",
        dest="max_header_bytes",
        type=_positive_int,
        default=65536,
        help="bytes of a request's line and headers (default 65536; more gets 431)",
    )
    p.add_argument(
        "--reload.min-interval",
        dest="reload_interval",
        type=_positive_float,
        default=1.0,
        help="seconds between the starts of two reloads; requests in between coalesce (default 1)",
    )
    p.add_argument(
        "--reload.timeout",
        dest="reload_timeout",
        type=_positive_float,
        default=120.0,
        help="seconds a reload may validate before it is stopped and counted as failed (default 120)",
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
    """Load, then serve until SIGTERM/SIGINT; SIGHUP reloads (and, with --web.enable-lifecycle,
    POST /-/reload)."""
    # Imported here so `slodrift generate` never loads the exporter's run-time modules.
    from prometheus_client import CollectorRegistry
    from slodrift.exporter.collector import SlodriftCollector
    from slodrift.exporter.loader import ProcessLoader
    from slodrift.exporter.pages import Pages
    from slodrift.exporter.reloader import Reloader
    from slodrift.exporter.server import Limits, make_handler, make_server, parse_listen_address
    from slodrift.exporter.state import StateHolder

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
    if not state.reload():  # in this process: nothing is served yet, and errors exit 2
        print(f"error: {state.status.last_error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    limits = Limits(
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        header_timeout=args.header_timeout,
        max_header_bytes=args.max_header_bytes,
    )
    registry = CollectorRegistry()
    scores = None
    if args.scoring_url:
        from slodrift.exporter.scorer import Scorer

        try:
            scores = Scorer(state, args.scoring_url, args.scoring_interval)
        except ValueError as exc:
            print(f"error: --scoring.prometheus-url: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    registry.register(SlodriftCollector(state, scores.metrics if scores else None))
    pages = Pages(registry, state)
    reloader = Reloader(state, args.reload_interval)
    handler = make_handler(
        pages,
        state,
        reloader.request if args.lifecycle else None,
        reloader.wait if args.lifecycle else None,
        limits,
    )
    try:
        server = make_server(address, handler, args.certfile, args.keyfile, limits)
    except (OSError, ValueError) as exc:
        print(f"error: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    loader = ProcessLoader(timeout=args.reload_timeout)
    state.loader = loader  # reloads validate in a child process, off the serving path
    stop = threading.Event()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        reloader.request()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    pages.start()
    reloader.start()
    threading.Thread(target=loader.start, name="validator-start", daemon=True).start()
    if scores:
        scores.start(stop)
    log.info(
        "listening on %s:%d%s",
        *server.server_address[:2],
        " (lifecycle API enabled)" if args.lifecycle else "",
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        reloader.stop()
        pages.stop()
        loader.close()
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the exporter's subcommands to the umbrella `slodrift` parser."""
    p = sub.add_parser("serve", help="run the exporter (baseline and stability gauges)")
    add_serve_arguments(p)
    p.set_defaults(func=cmd_serve)


def main(argv: list[str] | None = None) -> int:
    """`slodrift-exporter`: the same as `slodrift serve`."""
    parser = argparse.ArgumentParser(prog="slodrift-exporter", description="slodrift exporter")
    add_serve_arguments(parser)
    return cmd_serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

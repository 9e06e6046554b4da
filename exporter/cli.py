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
    from slodrift.exporter.collector import SlodriftCollector
    from slodrift.exporter.server import make_handler, make_server, parse_listen_address
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
    if not state.reload():
        print(f"error: {state.status.last_error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    registry = CollectorRegistry()
    scores = None
    if args.scoring_url:
        from slodrift.exporter.scorer import Scorer

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

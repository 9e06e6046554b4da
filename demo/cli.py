"""`slodrift demo`: registers the command; the demo's modules load only when it runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo in the foreground."""
    from slodrift.demo.live import is_tty
    from slodrift.demo.run import run

    tty = is_tty(sys.stdout) and not args.plain
    return run(sys.stdout, tty, args.fast, Path(args.workdir) if args.workdir else None, args.seed)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo` to the umbrella `slodrift` parser."""
    p = sub.add_parser(
        "demo",
        help="the whole loop live on 127.0.0.1: services, Prometheus, Alertmanager, exporter, a release",
        description=(
            "Start synthetic services, a real Prometheus with the generated rules, a real Alertmanager "
            "with the generated routing, a webhook receiver and the exporter with a baseline captured "
            "from the first minutes; release a regressing version, roll it back, and write the "
            "stability report and a backtest. Everything runs on 127.0.0.1 and stops at the end or on Ctrl-C."
        ),
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="windows of seconds instead of minutes, no HTML (for CI): about a minute instead of five",
    )
    p.add_argument(
        "--workdir", default=None, help="directory for everything (new or empty; default: a temporary one)"
    )
    p.add_argument(
        "--plain", action="store_true", help="print events line by line instead of redrawing the screen"
    )
    p.add_argument("--seed", type=int, default=None, help="seed of the synthetic traffic")
    p.set_defaults(func=cmd_demo)

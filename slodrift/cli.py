"""The `slodrift` command: one parser that gathers the subcommands of the generator, the batch jobs
(`report`) and the exporter.

It lives outside those packages so that `generator` never imports `report` or `exporter`. Each package's
`cli` module only registers its arguments; the modules that do the work are imported by the command that
runs, so `slodrift generate` never loads the exporter's run-time dependencies.
"""

from __future__ import annotations

import argparse
import signal
import sys

from slodrift.exitcodes import EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    """The full command tree. The packages are imported here, not at the top, so that a Ctrl-C while
    they load (half a second) ends as `entry` says, not with a traceback."""
    from slodrift.demo import cli as demo_cli
    from slodrift.exporter import cli as exporter_cli
    from slodrift.generator import cli as generator_cli
    from slodrift.report import cli as report_cli

    parser = argparse.ArgumentParser(prog="slodrift", description="Prometheus rules that watch a release.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generator_cli.register(sub)
    report_cli.register(sub)
    exporter_cli.register(sub)
    demo_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (argparse's own usage errors exit 2)."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


def entry() -> None:
    """The console script. Ctrl-C ends a command with exit code 130 and one line, not a traceback.
    Writing files holds Ctrl-C, SIGTERM and SIGHUP until it is done (`atomic.signals_held`): an
    interrupted `generate` has written everything, or changed nothing."""
    try:
        code = main()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # more Ctrl-C while the interpreter exits: no trace
        print("interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    sys.exit(code)


if __name__ == "__main__":
    entry()

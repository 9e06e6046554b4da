"""The `slodrift` command: one parser that gathers the generator's and the exporter's subcommands.

It lives outside both packages so that `generator` never imports `exporter`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from generator import cli as generator_cli

# Exporter subcommands register themselves here once they exist; importing lazily keeps `slodrift
# generate` free of the exporter's run-time dependencies.
_OPTIONAL = ("exporter.cli",)


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = argparse.ArgumentParser(prog="slodrift", description="Prometheus rules that watch a release.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generator_cli.register(sub)
    for name in _OPTIONAL:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (argparse's own usage errors exit 2)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

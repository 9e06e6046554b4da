"""`slodrift import sloth|openslo|pyrra FILE [--out SPEC]`: convert another tool's SLO spec into a slodrift spec.

This module only reads the file, prints warnings and errors the way `slodrift check` does (exit 2, nothing
written, no traceback) and writes the result atomically. Like the other `cli` modules it registers its
arguments at every start and imports the converters only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from slodrift.issues import print_issues

if TYPE_CHECKING:
    from slodrift.generator.importers.common import Imported, Source

__all__ = ["cmd_import", "import_file", "register"]


def _converters() -> dict[str, Callable[[Source], Imported]]:
    from slodrift.generator.importers.openslo import openslo_to_spec
    from slodrift.generator.importers.pyrra import pyrra_to_spec
    from slodrift.generator.importers.sloth import sloth_to_spec

    return {"sloth": sloth_to_spec, "openslo": openslo_to_spec, "pyrra": pyrra_to_spec}


def import_file(fmt: str, path: str, **options: str) -> tuple[str, Imported]:
    """Read, parse and convert one file; returns the spec as YAML text and the conversion result."""
    from slodrift.generator.importers.common import ImportFailed, dump_spec, parse_source
    from slodrift.generator.spec import MAX_BYTES, SpecIssue

    from slodrift.inputs import ReadError, read_bounded

    try:
        raw = read_bounded(path, MAX_BYTES)
    except ReadError as exc:
        raise ImportFailed([SpecIssue(path, "", None, str(exc))]) from None
    result = _converters()[fmt](parse_source(path, raw), **options)
    n_slo = sum(len(s.get("slos", [])) for s in result.spec["services"])
    header = (
        f"Imported by `slodrift import {fmt}` from {Path(path).name}: "
        f"{len(result.spec['services'])} service(s), {n_slo} SLO(s).\n"
        "Review it (receivers, release, indicators), then: slodrift generate SPEC --out DIR"
    )
    return dump_spec(result.spec, header), result


def cmd_import(args: argparse.Namespace) -> int:
    """Convert, print warnings, then write to --out (atomically) or stdout."""
    from slodrift.generator.importers.common import ImportFailed
    from slodrift.generator.writer import OutputError, write_atomic

    options = {"period": args.default_slo_period} if getattr(args, "default_slo_period", None) else {}
    if args.out and Path(args.out).exists() and Path(args.out).resolve() == Path(args.file).resolve():
        print(f"error: --out {args.out} is the input file; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        text, result = import_file(args.format, args.file, **options)
    except ImportFailed as exc:
        print_issues(exc.issues)
        return EXIT_BAD_INPUT
    for issue in result.warnings:
        print(f"warning: {issue}", file=sys.stderr)
    if args.out:
        try:
            write_atomic(Path(args.out), text)
        except OutputError as exc:
            print(f"error: {exc}; nothing written", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import sloth|openslo|pyrra` to the umbrella parser."""
    p = sub.add_parser("import", help="convert a Sloth, OpenSLO or Pyrra spec into a slodrift spec")
    formats = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    for fmt, help_text in (
        ("sloth", "Sloth prometheus/v1 (or PrometheusServiceLevel) YAML"),
        ("openslo", "OpenSLO v1 (or v1alpha) YAML: SLO, SLI, Service, DataSource"),
        ("pyrra", "Pyrra ServiceLevelObjective (pyrra.dev/v1alpha1) YAML"),
    ):
        f = formats.add_parser(fmt, help=help_text)
        f.add_argument("file", help="input YAML file")
        f.add_argument(
            "--out", help="write the spec here (atomically; a regular file only) instead of stdout"
        )
        if fmt == "sloth":
            f.add_argument(
                "--default-slo-period",
                default="30d",
                choices=["28d", "30d"],
                help="SLO window, as Sloth's --default-slo-period (default 30d)",
            )
        f.set_defaults(func=cmd_import)

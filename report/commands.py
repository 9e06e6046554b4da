"""`slodrift backfill` and `slodrift backtest`: argument parsing, exit codes, terminal output.

Exit codes: 0 done; 1 the source Prometheus is unreachable or failed (after bounded retries), or a tool
it needs failed; 2 a bad spec or bad arguments (nothing is written). Progress goes to stderr, only on a
terminal.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from .backfill_correct import CorrectionResult

__all__ = ["register", "main", "cmd_backfill", "cmd_backtest"]


def _progress() -> Callable[[int, int, str], None] | None:
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.2:
            return
        last[0] = now
        width = 24
        filled = width * done // max(1, total)
        print(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what[:60]:<60}",
            end="",
            file=sys.stderr,
            flush=True,
        )
        if done >= total:
            print(file=sys.stderr)

    return show


def _errors(exc: BaseException) -> int:
    """Print what went wrong; the exit code it deserves."""
    from slodrift.generator.spec import SpecError

    from slodrift.atomic import OutputError
    from slodrift.issues import print_issues

    from .backfill import BackfillInputError
    from .blockwriter import BlockWriteError
    from .prometheus_api import PrometheusError
    from .rulefiles import RuleFileError
    from .scratch import ScratchError

    if isinstance(exc, SpecError):
        print_issues(exc.issues)
        return EXIT_BAD_INPUT
    if isinstance(exc, BackfillInputError | RuleFileError | ValueError | OutputError):
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, PrometheusError | ScratchError | BlockWriteError | OSError):
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return EXIT_FAILED
    raise exc


def _print_correction(res: CorrectionResult) -> int:
    from .timeargs import iso

    for note in res.notes:
        print(note, file=sys.stderr)
    fixed = ", ".join(f"{n} {name}" for name, n in sorted(res.corrected.items())) or "none"
    print(
        f"checked {res.checked} recorded block samples from {iso(res.start_ms)} to {iso(res.end_ms)}; "
        f"corrected: {fixed}; wrote {res.blocks} block(s), {res.samples} samples into {res.out}/ "
        f"({res.queries} queries)"
    )
    if res.samples:
        print(
            f"next: copy {res.out}/* into Prometheus' data directory as after the backfill, then run this "
            "again a few minutes later: the open blocks recorded before these blocks load are corrected "
            "then (the README section 'slodrift backfill' gives the steps)"
        )
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    from .backfill import backfill
    from .backfill_correct import correct
    from .promql_names import parse_duration_ms
    from .spec_rules import spec_rules
    from .timeargs import iso, parse_time_ms

    try:
        start, end = parse_time_ms(args.start), parse_time_ms(args.end)
        if end <= start:
            raise ValueError(f"--to {args.end} is not after --from {args.start}")
        step = parse_duration_ms(args.step) if args.step else None
        sr = spec_rules(args.spec)
        groups = sr.groups
        if step:  # promtool's --eval-interval: only for groups that set no interval of their own
            import yaml

            from .rulefiles import parse_groups

            groups = []
            for rel in sorted(f for f in sr.files if f.startswith("rules/") and f.endswith(".yml")):
                groups += parse_groups(yaml.safe_load(sr.files[rel]), rel, default_interval_ms=step)
        if args.correct:
            return _print_correction(correct(groups, args.prometheus_url, start, end, Path(args.out)))
        res = backfill(groups, args.prometheus_url, start, end, Path(args.out), progress=_progress())
    except Exception as exc:  # noqa: BLE001 - mapped to exit codes, anything else re-raised
        return _errors(exc)
    for note in res.notes:
        print(note, file=sys.stderr)
    print(
        f"wrote {res.blocks} block(s), {res.samples} samples of {', '.join(res.names)} "
        f"from {iso(res.start_ms)} to {iso(res.end_ms)} into {res.out}/ ({res.queries} queries)"
    )
    print(
        f"next: copy {res.out}/* into Prometheus' data directory (it loads new blocks within a minute), then, "
        "once they are loaded, run this command again with --correct, --from the rules' start printed above "
        "(or --from as given) and --to now, into a new --out, copy those blocks in too, and do that once more "
        "(README, section `slodrift backfill`, steps 3-5, and its caveats)"
    )
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from .alert_tiers import AmtoolRouter, owner_of
    from .backtest import Deployment, replay
    from .backtest_doc import document
    from .backtest_output import write_outputs
    from .promql_names import parse_duration_ms
    from .ruleeval import scratch_workdir
    from .spec_rules import slo_infos, spec_rules, tiers_by_receiver
    from .timeargs import parse_incident, parse_time_ms

    started = time.monotonic()
    try:
        start, end = parse_time_ms(args.start), parse_time_ms(args.end)
        if end <= start:
            raise ValueError(f"--to {args.end} is not after --from {args.start}")
        incidents = [parse_incident(i) for i in args.incident]
        grace = parse_duration_ms(args.incident_grace)
        loaded = parse_time_ms(args.deployed_at) if args.deployed_at else None
        if args.backfilled and loaded is None:
            raise ValueError("--backfilled needs --deployed-at")
        if loaded is not None and loaded >= end:
            raise ValueError(
                f"--deployed-at {args.deployed_at} is not before --to {args.end}: the rules would "
                "never run in the range"
            )
        for inc, text in zip(incidents, args.incident, strict=True):
            if inc.end_ms <= start or inc.start_ms >= end:
                raise ValueError(
                    f"incident {text!r} lies outside the backtest's range --from {args.start} --to "
                    f"{args.end}: no alert of the range could detect it"
                )
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: exists and is not a directory")
        sr = spec_rules(args.spec)
        slos = slo_infos(sr.spec)
        known = {s.owner for s in slos}
        for inc, text in zip(incidents, args.incident, strict=True):
            if inc.scope is not None and inc.scope not in known:
                raise ValueError(
                    f"incident {text!r}: the spec has no SLO {inc.scope!r} (it has: "
                    f"{', '.join(sorted(known)) or 'none'})"
                )
        deployments = [
            Deployment(sr.groups, loaded_ms=loaded, backfilled=args.backfilled, name=Path(args.spec).name)
        ]
        keep = {th.series for s in slos for th in s.thresholds}
        with scratch_workdir() as work:
            rep = replay(
                deployments, args.prometheus_url, start, end, Path(work), keep=keep, progress=_progress()
            )
        cfg = sr.alertmanager_config
        with AmtoolRouter(cfg or "", tiers_by_receiver(sr.spec)) as router:
            doc = document(
                rep,
                deployments,
                start,
                end,
                router.tier if cfg else _label_tier,
                owner_of,
                incidents,
                slos,
                grace,
                source=args.prometheus_url,
                spec=args.spec,
                seconds=time.monotonic() - started,
            )
        written = write_outputs(out, doc, slos, rep.kept, with_html=not args.no_html)
    except Exception as exc:  # noqa: BLE001 - mapped to exit codes, anything else re-raised
        return _errors(exc)
    for w in doc["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    for e in doc["rule_errors"]:
        print(
            f"warning: rule {e['rule']} failed {e['count']} time(s) from {e['first']} to {e['last']}: "
            f"{e['message']}",
            file=sys.stderr,
        )
    t = doc["totals"]
    print(
        f"{t['pages']} page(s) ({t['pages_per_day']:.2f}/day), {t['tickets']} ticket(s) "
        f"({t['tickets_per_day']:.2f}/day) over {doc['range']['days']:.2f} day(s)"
    )
    for inc in doc["incidents"]:
        for d in inc["detections"]:
            lat = d["page_latency_seconds"]
            print(
                f"incident {inc['start']}..{inc['end']} {d['owner']}: "
                + (f"paged after {lat / 60:.1f} min" if lat is not None else "no page")
                + (
                    ""
                    if d["ticket_latency_seconds"] is None
                    else f", ticket after {d['ticket_latency_seconds'] / 60:.1f} min"
                )
            )
    print(f"wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def _label_tier(labels: Mapping[str, str]) -> str:
    from .alert_tiers import label_tier

    return label_tier(labels)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `backfill` and `backtest` to the umbrella `slodrift` parser."""
    b = sub.add_parser(
        "backfill", help="write TSDB blocks of the recorded series the SLO windows are built from"
    )
    b.add_argument("spec", help="the slodrift spec")
    b.add_argument("--prometheus-url", required=True, help="Prometheus holding the raw history")
    b.add_argument("--from", dest="start", required=True, help="start (RFC 3339 or Unix time)")
    b.add_argument("--to", dest="end", required=True, help="end (RFC 3339 or Unix time)")
    b.add_argument("--out", required=True, help="new (or empty) directory for the blocks")
    b.add_argument(
        "--step",
        default=None,
        help="evaluation interval of groups that set none (slodrift's always set one; like promtool's "
        "--eval-interval)",
    )
    b.add_argument(
        "--correct",
        action="store_true",
        help="instead of backfilling, write correction series for the blocks and open blocks the live "
        "rules recorded in [--from, --to] before the backfilled slices were in (run after the backfill's "
        "blocks load, then once more)",
    )
    b.set_defaults(func=cmd_backfill)
    t = sub.add_parser("backtest", help="what the spec's alerts would have fired over past data")
    t.add_argument("spec", help="the slodrift spec")
    t.add_argument("--prometheus-url", required=True, help="Prometheus holding the raw history")
    t.add_argument("--from", dest="start", required=True, help="start (RFC 3339 or Unix time)")
    t.add_argument("--to", dest="end", required=True, help="end (RFC 3339 or Unix time)")
    t.add_argument("--out", required=True, help="directory for backtest.json, backtest.md, backtest.html")
    t.add_argument(
        "--incident",
        action="append",
        default=[],
        metavar="T1..T2[@SERVICE/SLO]",
        help="an incident to measure detection latency against (repeatable)",
    )
    t.add_argument(
        "--incident-grace",
        default="1h",
        help="an alert firing up to this long after an incident ended still detects it (default 1h)",
    )
    t.add_argument(
        "--deployed-at",
        default=None,
        help="replay the rules as loaded at this time (windows start empty) instead of running before",
    )
    t.add_argument(
        "--backfilled", action="store_true", help="with --deployed-at: as if `slodrift backfill` ran first"
    )
    t.add_argument("--no-html", action="store_true", help="skip the HTML page (no matplotlib needed)")
    t.set_defaults(func=cmd_backtest)


def main(argv: list[str] | None = None) -> int:
    """`python -m slodrift.report.commands backtest ...`: the same as `slodrift backtest ...`."""
    parser = argparse.ArgumentParser(prog="slodrift")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

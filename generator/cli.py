"""`slodrift check | generate | test`: the build-time commands.

Exit codes follow the usual contract: 0 success, 1 a check that ran and failed (promtool), 2 bad input
(spec errors, bad usage). Errors go to stderr, one per line, each naming file, path and problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slodrift.generator import promtool, test_state
from slodrift.generator.kubernetes import label_problem, namespace_problem
from slodrift.generator.model import Spec
from slodrift.generator.parallel import WorkerDied
from slodrift.generator.render import RULES_DIR, TESTS_DIR, render
from slodrift.generator.spec import SpecError, load_specs
from slodrift.generator.testgen.unbuildable import Unbuildable
from slodrift.generator.writer import (
    MANIFEST,
    TEMPORARY_RE,
    OutputError,
    manifest_text,
    prune,
    read_manifest,
    verify_tree,
    write_tree,
)

from slodrift.atomic import signals_held
from slodrift.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from slodrift.issues import print_issues


def _load(paths: list[str]) -> list[Spec] | None:
    try:
        specs = load_specs(paths)
    except SpecError as exc:
        print_issues(exc.issues)
        return None
    for spec in specs:
        for warning in spec.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return specs


def cmd_check(args: argparse.Namespace) -> int:
    """Validate specs without writing anything."""
    specs = _load(args.spec)
    if specs is None:
        return EXIT_BAD_INPUT
    for spec in specs:
        n_slo = sum(len(s.slos) for s in spec.services)
        print(f"ok: {spec.path}: {len(spec.services)} service(s), {n_slo} SLO(s)")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    """Render every output in memory, then write atomically; a bad spec writes nothing."""
    specs = _load(args.spec)
    if specs is None:
        return EXIT_BAD_INPUT
    k8s = None
    if args.format != "prometheusrule" and (args.namespace or args.k8s_label):
        print("error: --namespace and --k8s-label need --format prometheusrule", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "prometheusrule":
        labels = {}
        for item in args.k8s_label:
            key, sep, value = item.partition("=")
            if not sep or not key:
                print(f"error: --k8s-label {item!r}: use key=value", file=sys.stderr)
                return EXIT_BAD_INPUT
            labels[key] = value
        problems = [
            p
            for p in [namespace_problem(args.namespace), *(label_problem(k, v) for k, v in labels.items())]
            if p
        ]
        for problem in problems:  # the API server would refuse the objects; say so before writing any
            print(f"error: {problem}", file=sys.stderr)
        if problems:
            return EXIT_BAD_INPUT
        k8s = {"namespace": args.namespace, "labels": labels}
    try:
        files = render(specs, args.alertmanager_webhook_base, k8s)
    except WorkerDied as exc:
        print(f"error: {exc}; no file changed", file=sys.stderr)
        return EXIT_FAILED
    except Unbuildable as exc:
        print(f"error: {exc}; cannot write its generated tests, no file changed", file=sys.stderr)
        return EXIT_FAILED
    out = Path(args.out)
    previous, _ = read_manifest(out)
    with signals_held():  # the files, their manifest and the pruning: all of it, or none if it fails
        try:
            write_tree(out, files)
        except OutputError as exc:
            print(f"error: {exc}; no file changed", file=sys.stderr)
            return EXIT_BAD_INPUT
        try:
            write_tree(out, {MANIFEST: manifest_text(files)})  # last: it vouches only for complete files
            removed, left = prune(out, previous, files)
        except OutputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    temporaries = [rel for rel in removed if TEMPORARY_RE.match(rel)]
    if temporaries:
        print(
            f"removed {len(temporaries)} temporary file(s) an interrupted run left under {out}/",
            file=sys.stderr,
        )
    for rel in removed:
        if rel not in temporaries:
            print(f"removed {out / rel}: no longer generated from the spec", file=sys.stderr)
    for why in left:
        print(f"warning: {out}/{why}", file=sys.stderr)
    print(
        f"wrote {len(files)} file(s) under {out}/: "
        f"{sum(f.startswith(RULES_DIR + '/') for f in files)} rule file(s), "
        f"{sum(f.startswith(TESTS_DIR + '/') for f in files)} test file(s)"
    )
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    """promtool check + test on a generated directory, with a one-screen summary. With `--changed`,
    only the test files whose fingerprint (the file, its rules, promtool) did not pass before."""
    base = Path(args.dir)
    rule_files = sorted((base / RULES_DIR).glob("*.yml"))
    test_files = sorted((base / TESTS_DIR).glob("*.yml"))
    if not rule_files:
        print(f"error: no rule files in {base / RULES_DIR}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        checked = promtool.check_rules(rule_files)
        ver = promtool.version()
        prints = {f: test_state.fingerprint(f, ver) for f in test_files}
        passed = test_state.load(base)
        rel = {f: str(f.relative_to(base)) for f in test_files}
        todo = [f for f in test_files if not args.changed or passed.get(rel[f]) != prints[f]]
        results = promtool.test_each(todo)
    except promtool.PromtoolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    kept = {k: v for k, v in passed.items() if k in rel.values()}
    for f, r in results.items():
        # recorded only when what was tested is still what was fingerprinted (a file that changed while
        # promtool ran is tested again next time)
        if r.ok and test_state.fingerprint(f, ver) == prints[f]:
            kept[rel[f]] = prints[f]
        else:
            kept.pop(rel[f], None)
    try:
        test_state.save(base, kept)
    except (OSError, OutputError) as exc:  # a read-only output: the run still counts, --changed will not
        print(
            f"warning: cannot record which tests passed in {base / test_state.STATE_FILE}: {exc}",
            file=sys.stderr,
        )
    c = promtool.count(rule_files, test_files)
    print(f"rules:  {len(rule_files)} file(s), {c.recording} recording, {c.alerts} alerting")
    print(
        f"tests:  {len(test_files)} file(s), {c.test_groups} test group(s), "
        f"{c.alert_tests} alert test(s), {c.expr_tests} expression test(s)"
    )
    if args.changed:
        print(
            f"changed: {len(todo)} test file(s) to run, {len(test_files) - len(todo)} unchanged since they passed"
        )
    tested_ok = all(r.ok for r in results.values())
    print(f"promtool check rules: {'PASS' if checked.ok else 'FAIL'}")
    print(f"promtool test rules:  {'no tests' if not test_files else 'PASS' if tested_ok else 'FAIL'}")
    failed = [r for r in (checked, *results.values()) if not r.ok]
    for r in failed:
        print(f"\n$ {' '.join(r.command)}\n{r.output.rstrip()}", file=sys.stderr)
    return EXIT_FAILED if failed or not test_files else EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Check generated files against the MANIFEST.sha256 `generate` wrote."""
    problems = verify_tree(Path(args.dir))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return EXIT_FAILED
    print(f"ok: every file in {Path(args.dir) / MANIFEST} matches")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the generator's subcommands to the umbrella `slodrift` parser."""
    p = sub.add_parser("check", help="validate spec files")
    p.add_argument("spec", nargs="+", help="spec YAML file(s)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("generate", help="render rules and promtool tests")
    p.add_argument("spec", nargs="+", help="spec YAML file(s)")
    p.add_argument("--out", default=".", help="output directory (default: current directory)")
    p.add_argument(
        "--alertmanager-webhook-base",
        default="http://127.0.0.1:9095/",
        help="URL prefix of the placeholder webhook receivers in alertmanager/alertmanager.yml",
    )
    p.add_argument(
        "--format",
        choices=["rules", "prometheusrule"],
        default="rules",
        help="prometheusrule: also write kubernetes/*.prometheusrule.yml (monitoring.coreos.com/v1)",
    )
    p.add_argument("--namespace", default="", help="namespace of the PrometheusRule objects")
    p.add_argument(
        "--k8s-label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="label on the PrometheusRule objects (repeatable; e.g. release=prometheus)",
    )
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("test", help="run promtool check and test on a generated directory")
    p.add_argument("dir", nargs="?", default=".", help="directory holding rules/ and promtool-tests/")
    p.add_argument(
        "--changed",
        action="store_true",
        help=f"test only the files whose test, rules or promtool changed since they last passed "
        f"(remembered in DIR/{test_state.STATE_FILE})",
    )
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("verify", help="check generated files against their MANIFEST.sha256")
    p.add_argument("dir", nargs="?", default=".", help="directory holding MANIFEST.sha256")
    p.set_defaults(func=cmd_verify)
    from slodrift.generator.importers.cli import (
        register as register_import,  # `slodrift import sloth|openslo`
    )

    register_import(sub)

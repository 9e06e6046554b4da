"""Property-based tests: random valid specs, with hostile label values, always render to rules that
promtool accepts and to generated tests that promtool passes; values arrive intact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from slodrift.generator import promql
from slodrift.generator.render import render
from slodrift.generator.spec import SpecError, load_spec_text
from slodrift.generator.writer import write_tree

from tests.helpers import FULL  # noqa: E402

# specs per promtool batch: `make test` runs one fixed batch of each property test, `make test-full`
# three and four larger random ones
BATCH = 8 if FULL else 3
HOSTILE = st.lists(
    st.sampled_from(
        list("ab\"\\}{=~!,\n\t '`$.:/") + ["ü", "✓", "\u2028", "{{", "}}", "{{ $value }}", "\x7f"]
    ),
    max_size=8,
).map("".join)
LABEL_VALUE = HOSTILE.filter(bool)  # an empty label value is refused: Prometheus drops it
LABEL_NAME = st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\Z").filter(
    lambda n: (
        n
        not in {
            "service",
            "slo",
            "window",
            "tier",
            "severity",
            "alertname",
            "indicator",
            "category",
            "le",
            "objective",
            "sli_kind",
            "release",
            "version",
            "job",
            "code",
            "receiver",
            "owner",
            "unit",
        }
    )
)
NAME = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z")


@st.composite
def sli(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["events", "latency", "ratio", "queries"]))
    if kind == "events":
        code = draw(st.sampled_from(['code=~"5.."', 'code=~"5..|429"', 'code!~"2..|3.."', 'status="error"']))
        extra = draw(HOSTILE)
        return {
            "errors": f"http_requests_total{{{code},path!={promql.quote(extra)}}}",
            "total": f"http_requests_total{{path!={promql.quote(extra)}}}",
        }
    if kind == "latency":
        return {
            "latency": {
                "histogram": "http_request_duration_seconds",
                "threshold": draw(st.sampled_from([0.05, 0.1, 0.25, 0.5, 1, 2.5, 10])),
            }
        }
    if kind == "ratio":
        return {"error_ratio_query": "sum(rate(errs_total[{{window}}])) / sum(rate(reqs_total[{{window}}]))"}
    return {
        "error_query": 'sum(rate(reqs_total{code="500"}[{{window}}]))',
        "total_query": "sum(rate(reqs_total[{{window}}]))",
    }


@st.composite
def slo(draw: st.DrawFn, name: str) -> dict:
    out = {
        "name": name,
        "objective": draw(st.sampled_from([95, 97.5, 99, 99.5, 99.9, 99.95, 99.99])),
        "window": draw(st.sampled_from(["7d", "14d", "28d", "30d"])),
        "sli": draw(sli()),
    }
    if draw(st.booleans()):
        out["labels"] = draw(st.dictionaries(LABEL_NAME, LABEL_VALUE, max_size=2))
    alerting: dict = {}
    if draw(st.booleans()):
        alerting["min_request_rate"] = draw(st.sampled_from([0, 0.01, 1]))
    if draw(st.booleans()):
        alerting["ticket"] = False
    if draw(st.booleans()):
        alerting["page"] = {"receiver": "pager", "labels": {"owner": draw(LABEL_VALUE)}, "for": "5m"}
    if draw(st.booleans()):
        alerting["no_data"] = False
    if alerting:
        out["alerting"] = alerting
    return out


@st.composite
def service(draw: st.DrawFn, name: str) -> dict:
    out: dict = {
        "name": name,
        "labels": draw(st.dictionaries(LABEL_NAME, LABEL_VALUE, max_size=3)),
        "selector": {"job": draw(HOSTILE)},
    }
    slo_names = draw(st.lists(NAME, min_size=0, max_size=2, unique=True))
    out["slos"] = [draw(slo(n)) for n in slo_names]
    inds = draw(
        st.lists(
            st.sampled_from(
                [
                    "availability",
                    "error_ratio",
                    "p99_latency",
                    "cpu",
                    "memory",
                    "request_rate",
                    "cache_hit_ratio",
                ]
            ),
            unique=True,
            min_size=0 if slo_names else 1,
            max_size=4,
        )
    )
    if inds:
        out["indicators"] = {i: ({"regression": "15%"} if i in ("cpu", "memory") else {}) for i in inds}
        if draw(st.booleans()):
            out["anomaly"] = {"indicators": [inds[0]]}
    return out


@st.composite
def spec(draw: st.DrawFn, prefix: str) -> dict:
    names = draw(st.lists(NAME, min_size=1, max_size=2, unique=True))
    return {"version": 1, "services": [draw(service(f"{prefix}-{n}")) for n in names]}


# Each example is a batch of specs run through promtool at once; shrinking such a batch would re-run
# promtool hundreds of times, so a failure is reported as drawn (the failing spec is printed).
@pytest.mark.slow
@pytest.mark.timeout(1200)
@settings(
    max_examples=3 if FULL else 1,
    derandomize=not FULL,  # `make test` draws the same specs at every run; `make test-full` new ones
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(
    st.lists(st.integers(0, 10**6), min_size=BATCH, max_size=BATCH, unique=True).flatmap(
        lambda ids: st.tuples(*[spec(f"s{i}") for i in ids])
    )
)
def test_random_specs_pass_promtool(tmp_path_factory, specs):
    out: Path = tmp_path_factory.mktemp("prop")
    for i, data in enumerate(specs):
        text = yaml.safe_dump(data, allow_unicode=True)
        (out / f"random{i}.yml").write_text(text)  # kept next to the output, to reproduce a failure
        model = load_spec_text(f"random{i}.yml", text.encode())
        files = render([model])
        write_tree(out, files)
        # every user label value arrives, unchanged, on every recorded series of its service
        for svc in data["services"]:
            rel = f"rules/{svc['name']}.slo.yml"
            if rel not in files:
                continue
            for group in yaml.safe_load(files[rel])["groups"]:
                for rule in group["rules"]:
                    if "record" in rule:
                        for k, v in svc["labels"].items():
                            assert rule["labels"][k] == v
    rules = sorted(str(p) for p in (out / "rules").glob("*.yml"))
    tests = sorted(str(p) for p in (out / "promtool-tests").glob("*.yml"))
    checked = subprocess.run(
        ["promtool", "check", "rules", *rules], capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    tested = subprocess.run(
        ["promtool", "test", "rules", *tests], capture_output=True, text=True, timeout=600, cwd=out
    )
    if tested.returncode != 0:
        failed = []
        for t in tests:  # name the failing files and show promtool's own words for each
            one = subprocess.run(
                ["promtool", "test", "rules", t], capture_output=True, text=True, timeout=300, cwd=out
            )
            if one.returncode != 0:
                failed.append(f"== {t}\n{one.stdout[:3000]}{one.stderr[:1000]}")
        raise AssertionError("\n".join(failed))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_label_value_round_trips_through_promql_quoting(value):
    sel = promql.parse_selector(promql.selector("m", {"l": value}))
    assert sel.matchers[0].value == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_template_literal_survives_prometheus_style_expansion(value):
    from slodrift.generator.testgen.templates import render_template

    assert render_template(promql.template_literal(value), {}) == value


# -- issue 17, item 6: whatever `check` accepts, promtool accepts ------------------------------------------
TEMPLATE = st.lists(
    st.sampled_from(
        [
            "{{",
            "}}",
            "{",
            "}",
            " ",
            "\n",
            "$labels.",
            "service",
            "x",
            "-",
            '"',
            "\u00a0",
            "/*",
            "*/",
            "|",
            "$value",
        ]
    ),
    max_size=8,
).map("".join)
REGEX = st.lists(
    st.sampled_from(
        list("5.*+?|()[]^$\\{}0-9a")
        + ["(?=", "(?P<n>", "(?<n>", "\\1", "\\C", "\\pL", "[[:digit:]]", "{1000}", "{2,1}", "\\z", "\\Z"]
        + ["*+", "(?i)", "[^2]", "\\d", "\\Q.\\E", "x{1001}", "(a+)+"]
    ),
    min_size=1,
    max_size=8,
).map("".join)
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1e-300, 1e308, -0.0, 99.999999999, "5%", "200%", "-1%", "nan%"]),
)
NAMEISH = st.one_of(NAME, st.text(alphabet="ab-_.\n \t:/{}\"'é0", max_size=6))
DURATION = st.one_of(
    st.sampled_from(
        ["5m", "1h", "30d", "0s", "90s", "1h30m", "5m\n", "1.5h", "-1m", "1y", "100000d", "", "1ms"]
    ),
    st.text(alphabet="0159smhdwy.", max_size=5),
)


@st.composite
def mutated_spec(draw: st.DrawFn, prefix: str) -> dict:
    """A random valid spec with one to three fields replaced by hostile values (maybe valid, maybe not)."""
    data = draw(spec(prefix))
    for _ in range(draw(st.integers(1, 3))):
        svc = draw(st.sampled_from(data["services"]))
        target = draw(st.sampled_from(svc["slos"])) if svc["slos"] else None
        what = draw(st.sampled_from(["template", "regex", "number", "name", "duration", "label"]))
        if target is None or what == "name":
            key = draw(st.sampled_from(["service", "receiver", "severity"] if target else ["service"]))
            if key == "service":
                svc["name"] = draw(NAMEISH)
            else:
                target.setdefault("alerting", {})["page"] = {key: draw(NAMEISH)}
        elif what == "template":
            where = draw(st.sampled_from(["slo", "tier", "defaults"]))
            annotations = {draw(st.sampled_from(["summary", "description", "runbook_url"])): draw(TEMPLATE)}
            if where == "slo":
                target.setdefault("alerting", {})["annotations"] = annotations
            elif where == "tier":
                target.setdefault("alerting", {})["ticket"] = {"annotations": annotations}
            else:
                data.setdefault("defaults", {"alerting": {}}).setdefault("alerting", {})["annotations"] = (
                    annotations
                )
        elif what == "regex":
            op = draw(st.sampled_from(["=~", "!~"]))
            target["sli"] = {
                "errors": f"http_requests_total{{code{op}{promql.quote(draw(REGEX))}}}",
                "total": draw(
                    st.sampled_from(
                        ["http_requests_total", f"http_requests_total{{code=~{promql.quote(draw(REGEX))}}}"]
                    )
                ),
            }
        elif what == "number":
            value = draw(NUMBER)
            field = draw(st.sampled_from(["objective", "min_request_rate", "threshold", "factor", "budget"]))
            if field == "objective":
                target["objective"] = value
            elif field == "min_request_rate":
                target.setdefault("alerting", {})["min_request_rate"] = value
            elif field == "threshold":
                target["sli"] = {
                    "latency": {"histogram": "http_request_duration_seconds", "threshold": value}
                }
            else:
                key = "factor" if field == "factor" else "budget_consumed"
                target.setdefault("alerting", {})["page"] = {
                    "windows": [{"long": "1h", "short": "5m", key: value}]
                }
        elif what == "duration":
            key = draw(st.sampled_from(["window", "for"]))
            if key == "window":
                target["window"] = draw(DURATION)
            else:
                target.setdefault("alerting", {})["page"] = {"for": draw(DURATION)}
        else:
            target["labels"] = {draw(NAMEISH): draw(LABEL_VALUE)}
    return data


@pytest.mark.slow
@pytest.mark.timeout(1200)
@settings(
    max_examples=4 if FULL else 1,
    derandomize=not FULL,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(
    st.lists(st.integers(0, 10**6), min_size=BATCH + 3, max_size=BATCH + 3, unique=True).flatmap(
        lambda ids: st.tuples(*[mutated_spec(f"m{i}") for i in ids])
    )
)
def test_what_check_accepts_promtool_accepts(tmp_path_factory, specs):
    """Hostile templates, regexes, numbers, names and durations: a spec is either refused by `check`
    (a SpecError, never another exception) or every rule file it renders passes `promtool check rules`
    and every generated test passes `promtool test rules`."""
    out: Path = tmp_path_factory.mktemp("accepted")
    accepted = 0
    for i, data in enumerate(specs):
        text = yaml.safe_dump(data, allow_unicode=True)
        folder = out / f"spec{i}"
        folder.mkdir()
        (folder / "spec.yml").write_text(text)  # kept, to reproduce a failure
        try:
            model = load_spec_text(f"spec{i}.yml", text.encode())
        except SpecError:
            continue
        accepted += 1
        write_tree(folder, render([model]))
    rules = sorted(str(p) for p in out.glob("spec*/rules/*.yml"))
    tests = sorted(str(p) for p in out.glob("spec*/promtool-tests/*.yml"))
    if not rules:
        return
    checked = subprocess.run(
        ["promtool", "check", "rules", *rules], capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    tested = subprocess.run(
        ["promtool", "test", "rules", *tests], capture_output=True, text=True, timeout=600, cwd=out
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert accepted <= len(specs)

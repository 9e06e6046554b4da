"""Property-based tests: random valid specs, with hostile label values, always render to rules that
promtool accepts and to generated tests that promtool passes; values arrive intact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from slodrift.generator import promql
from slodrift.generator.render import render
from slodrift.generator.spec import load_spec_text
from slodrift.generator.writer import write_tree

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
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(
    st.lists(st.integers(0, 10**6), min_size=8, max_size=8, unique=True).flatmap(
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

from decimal import Decimal
from pathlib import Path

import pytest
from slodrift.generator.spec import SpecError, load_spec, load_spec_text, load_specs

from tests.helpers import EXAMPLE

BASE = """\
version: 1
services:
  - name: checkout
    selector: {job: checkout}
    slos:
      - name: availability
        objective: 99.9
        sli: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}
"""


def errors_of(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(SpecError) as exc:
        load_spec_text("spec.yml", raw)
    return [str(i) for i in exc.value.issues]


def test_example_spec_model():
    spec = load_spec(EXAMPLE)
    assert [s.name for s in spec.services] == ["checkout", "catalog"]
    checkout, catalog = spec.services
    avail = checkout.slos[0]
    assert avail.objective == Decimal("0.999") and avail.error_budget == Decimal("0.001")
    assert avail.window == 30 * 86400 and spec.evaluation_interval == 60
    assert avail.sli.kind == "events"
    assert avail.sli.errors.render() == 'http_requests_total{code=~"5..",job="checkout"}'
    page, ticket = avail.tiers
    assert [(w.long, w.short, w.factor) for w in page.windows] == [
        (3600, 300, Decimal("14.4")),
        (21600, 1800, Decimal("6")),
    ]
    assert [w.factor for w in ticket.windows] == [Decimal("3"), Decimal("1")]
    assert page.receiver == "pager" and page.severity == "critical" and page.for_seconds == 0
    assert ticket.receiver == "chat" and ticket.for_seconds == 0
    assert checkout.slos[1].sli.kind == "latency" and checkout.slos[1].sli.threshold == Decimal("0.5")
    # 28-day window: the factors stay, the windows scale with the SLO window (1h -> 56m, 5m -> 5m)
    assert [(w.long, w.short, w.factor) for w in catalog.slos[0].tiers[0].windows] == [
        (56 * 60, 5 * 60, Decimal("14.4")),
        (336 * 60, 28 * 60, Decimal("6")),
    ]
    assert [(w.long, w.factor) for w in catalog.slos[0].tiers[1].windows] == [
        (1344 * 60, Decimal("3")),
        (4032 * 60, Decimal("1")),
    ]
    assert catalog.slos[1].tiers[1].for_seconds == 1800  # per-SLO override of one field only
    assert spec.release.watch_start.isoformat() == "2025-11-22T00:00:00+00:00"


def test_minimal_spec_gets_defaults():
    spec = load_spec_text("s.yml", BASE.encode())
    slo = spec.services[0].slos[0]
    assert slo.window == 30 * 86400 and slo.min_request_rate == Decimal(0)
    assert slo.min_error_events == Decimal(5) and slo.max_groups == 100
    assert slo.no_data and slo.no_data.for_seconds == 900
    assert spec.release.name == "checkout" and spec.release.watch_days == 7


def test_tiers_can_be_disabled_and_factors_given_directly():
    text = (
        BASE
        + "        alerting:\n          ticket: false\n          page: {windows: [{long: 1h, short: 5m, factor: 10}]}\n"
    )
    slo = load_spec_text("s.yml", text.encode()).services[0].slos[0]
    assert [t.name for t in slo.tiers] == ["page"]
    assert slo.tiers[0].windows[0].factor == Decimal("10")


def test_sub_minute_alert_windows_only_with_a_sub_minute_interval():
    """Time compressed for a demo or a test (`slodrift demo --fast`): with rules evaluated every second,
    a window pair of seconds is allowed; at the default 1m interval windows stay whole minutes."""
    alerting = "        alerting:\n          ticket: false\n          page: {windows: [{long: 20s, short: 5s, factor: 10}]}\n"
    fast = "version: 1\ndefaults: {evaluation_interval: 1s}\n" + BASE.removeprefix("version: 1\n") + alerting
    slo = load_spec_text("s.yml", fast.encode()).services[0].slos[0]
    assert [(w.long, w.short) for w in slo.tiers[0].windows] == [(20, 5)]
    errors = errors_of(BASE + alerting)
    assert len(errors) == 2 and all("alert windows are whole minutes" in e for e in errors)
    # and still whole evaluation intervals
    odd = fast.replace("evaluation_interval: 1s", "evaluation_interval: 10s")
    assert any("not a whole number of evaluation intervals (10s)" in e for e in errors_of(odd))


def test_default_pairs_scaled_onto_the_same_windows_are_kept_once():
    """A 5-minute SLO window scales both default page pairs (1h/5m, 6h/30m) to 2m/1m: two alert rules
    with the same labels would record the same alert twice (promtool: duplicate sample). One pair
    stays, the lower factor (it fires whenever the higher would), with a warning; a user's repeated
    pair is an error."""
    spec = load_spec_text("s.yml", (BASE + "        window: 5m\n").encode())
    page, ticket = spec.services[0].slos[0].tiers
    assert [(w.long, w.short, w.factor) for w in page.windows] == [(120, 60, Decimal("6"))]
    assert [(w.long, w.short, w.factor) for w in ticket.windows] == [(120, 60, Decimal("1"))]
    assert any("scale to the same windows (2m/1m); one pair at 6x is kept" in w for w in spec.warnings)
    twice = "        alerting:\n          page: {windows: [{long: 1h, short: 5m, factor: 14}, {long: 1h, short: 5m, factor: 10}]}\n"
    assert any("window pair 1h/5m twice" in e for e in errors_of(BASE + twice))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("objective: 99.9", "objective: 150"),
            "spec.yml:7: services[0].slos[0].objective: 150 is greater",
        ),
        (
            BASE.replace("objective: 99.9", "objective: 0"),
            "services[0].slos[0].objective: 0 is less than or equal",
        ),
        (
            BASE.replace("objective: 99.9", "objective: '99.9'"),
            "services[0].slos[0].objective: '99.9' is not of type",
        ),
        (BASE + "    colour: blue\n", "services[0]: unknown key(s) 'colour'"),
        (BASE.replace("version: 1", "version: 2"), "version: 1 was expected"),
        (BASE + "        window: 30x\n", "services[0].slos[0].window: '30x' is not a duration"),
        (BASE + "        window: 0d\n", "services[0].slos[0].window: invalid duration '0d'"),
        (
            BASE
            + "        window: 2h\n        alerting: {page: {windows: [{long: 6h, short: 30m, factor: 6}]}}\n",
            "alert window 6h is longer than the SLO window 2h",
        ),
        (
            BASE.replace("selector: {job: checkout}", "selector: {}"),
            "services[0].selector: {} should be non-empty",
        ),
        (BASE.replace("selector: {job: checkout}", "labels: {bad-name: x}"), "services[0].labels"),
        (
            BASE.replace("selector: {job: checkout}", "labels: {slo: x}"),
            "label 'slo' is set by slodrift itself",
        ),
        (BASE.replace("name: checkout", "name: 'check out'"), "services[0].name: 'check out' does not match"),
        (
            BASE.replace("total: http_requests_total", "total: 'rate(x[5m])'"),
            "invalid selector 'rate(x[5m])'",
        ),
        (BASE.replace("total: http_requests_total", "total: '9x'"), "must start with a metric name"),
        (
            BASE.replace("{errors: 'http_requests_total{code=~\"5..\"}', ", "{"),
            "errors and total go together",
        ),
        (
            BASE.replace("'http_requests_total{code=~\"5..\"}'", "'x{job=\"other\"}'"),
            "conflicts with the service selector",
        ),
        (
            BASE + "        alerting: {annotations: {summary: '{{ $value | humanize }}'}}\n",
            "unsupported template action",
        ),
        (
            BASE.replace("objective: 99.9", "objective: 90")
            + "        alerting: {page: {windows: [{long: 1h, short: 5m, factor: 14.4}]}}\n",
            "could never fire",
        ),
        (
            BASE.replace("version: 1\n", "version: 1\nversion: 1\n"),
            "spec.yml:2: version: duplicate key 'version'",
        ),
        ("- a\n- b\n", "a spec is a YAML mapping, not a list"),
        ("", "the file is empty"),
        ("version: 1\nservices: [\n", "invalid YAML"),
        (b"version: 1\n\xff\xfe\n", "not valid UTF-8"),
    ],
)
def test_bad_specs_name_file_path_and_problem(text, expected):
    errors = errors_of(text)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("spec.yml") for e in errors)


def test_duplicate_service_and_slo_names():
    svc = BASE.split("services:\n")[1]
    text = (
        BASE + svc + "      - name: availability\n        objective: 99\n        sli: {errors: a, total: b}\n"
    )
    errors = errors_of(text)
    assert any("services[1].name: duplicate service name 'checkout'" in e for e in errors)
    assert any("services[1].slos[1].name: duplicate SLO name 'availability'" in e for e in errors)


def test_yaml_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 9)
    ]
    assert any("alias bomb" in e for e in errors_of("\n".join(lines) + "\n"))


def test_deep_nesting_is_refused():
    assert any("nested deeper" in e for e in errors_of("version: " + "[" * 100 + "]" * 100 + "\n"))


def test_load_specs_rejects_a_service_defined_twice(tmp_path: Path):
    """At the second definition's line, naming the first's file and line (issue 18 review: no line)."""
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    a.write_text(BASE)
    b.write_text("# another team's spec\n\n" + BASE)
    with pytest.raises(SpecError) as exc:
        load_specs([str(a), str(b)])
    assert [str(i) for i in exc.value.issues] == [
        f"{b}:5: services[0].name: service 'checkout' is also defined in {a}:3"
    ]


def test_group_by_is_a_tuple_of_checked_label_names():
    slo = (
        load_spec_text("s.yml", (BASE + "        group_by: [route, cluster]\n").encode()).services[0].slos[0]
    )
    assert slo.group_by == ("route", "cluster")
    assert load_spec_text("s.yml", BASE.encode()).services[0].slos[0].group_by == ()
    errs = errors_of(BASE + "        group_by: ['bad-name', route, route]\n")
    assert any("group_by[0]" in e and "bad-name" in e for e in errs)
    assert any("group_by" in e and "non-unique" in e for e in errs)
    errs = errors_of(BASE + "        group_by: [route, slo]\n")
    assert errs == [
        "spec.yml:9: services[0].slos[0].group_by[1]: label 'slo' is set by slodrift itself; it cannot be a group label"
    ]


def test_invalid_promql_in_a_query_is_a_check_error_naming_the_line():
    spec = BASE.replace(
        "sli: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}",
        "sli:\n          error_query: 'sum(rate(e[{{window}}])) by'\n"
        "          total_query: 'sum(rate(t[{{window}}]))'",
    )
    (err,) = errors_of(spec)
    assert err.startswith("spec.yml:9: services[0].slos[0].sli.error_query: ") and "not valid PromQL" in err

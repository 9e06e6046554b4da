"""Baseline files: loading and its error messages, the seed's KPI summary, atomic writes, capture."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import stat
import statistics
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from slodrift.report.baseline import (
    Baseline,
    BaselineError,
    IndicatorBaseline,
    ProfilePoint,
    Window,
    dump_baseline,
    load_baseline,
    write_baseline,
)
from slodrift.report.baseline import serialize as baseline_writer
from slodrift.report.capture import capture_baseline

from tests.fake_prometheus import FakePrometheus, Reply, Seen, failure, success

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "report" / "schema" / "baseline.schema.json"

VALID = {
    "version": 1,
    "release": {"name": "checkout", "version": "v1.0.1"},
    "captured_at": "2025-11-21T18:00:00Z",
    "window": {"start": "2025-11-21T00:00:00Z", "end": "2025-11-22T00:00:00Z"},
    "source": "hand-written",
    "services": {
        "checkout": {
            "indicators": {
                "p99_latency": {"value": 0.2458, "unit": "seconds", "stddev": 0.01, "samples": 288},
                "error_ratio": {"value": 0.0005, "unit": "ratio"},
                "cpu": {"value": 0.352},
            }
        },
        "catalog": {"indicators": {"memory": {"value": 268435456, "unit": "bytes"}}},
    },
}

GA_SUMMARY = """{
  "overall_availability": 99.95,
  "overall_error_rate": 0.05,
  "avg_p95_latency_ms": 120.5,
  "avg_p99_latency_ms": 245.8,
  "avg_cpu_percent": 35.2,
  "avg_memory_percent": 42.1,
  "avg_db_latency_ms": 15.3,
  "avg_redis_hit_rate": 97.5,
  "total_requests": 17280000,
  "ga_start": "2025-11-21T00:00:00Z"
}
"""


def write(tmp_path: Path, content: str | bytes | dict, name: str = "baseline.json") -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def variant(edit) -> dict:
    doc = copy.deepcopy(VALID)
    edit(doc)
    return doc


def indicator(doc: dict, service: str = "checkout", name: str = "p99_latency") -> dict:
    return doc["services"][service]["indicators"][name]


# -- valid files ------------------------------------------------------------------------------------------


def test_valid_file_loads_into_frozen_model(tmp_path):
    path = write(tmp_path, VALID)
    b = load_baseline(path)

    assert b.release_name == "checkout" and b.release_version == "v1.0.1"
    assert b.captured_at == datetime(2025, 11, 21, 18, tzinfo=UTC)
    assert b.window == Window(datetime(2025, 11, 21, tzinfo=UTC), datetime(2025, 11, 22, tzinfo=UTC))
    assert b.source == "hand-written"
    assert b.format == "slodrift" and b.file == str(path)
    assert b.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert b.values == {
        ("checkout", "p99_latency"): IndicatorBaseline(0.2458, "seconds", 0.01, 288),
        ("checkout", "error_ratio"): IndicatorBaseline(0.0005, "ratio"),
        ("checkout", "cpu"): IndicatorBaseline(0.352),
        ("catalog", "memory"): IndicatorBaseline(268435456.0, "bytes"),
    }
    assert isinstance(b.values[("catalog", "memory")].value, float)
    assert b.services == ["catalog", "checkout"]
    assert list(b.indicators("checkout")) == ["cpu", "error_ratio", "p99_latency"]
    with pytest.raises(AttributeError):
        b.release_name = "other"  # type: ignore[misc]
    assert hash(b) == hash(load_baseline(path))


def test_minimal_file_and_optional_fields(tmp_path):
    doc = {
        "version": 1,
        "release": {"name": "checkout"},
        "services": {"checkout": {"indicators": {"request_rate": {"value": 0}}}},
    }
    b = load_baseline(write(tmp_path, doc))
    assert (b.release_version, b.captured_at, b.window, b.source) == (None, None, None, None)
    assert b.values == {("checkout", "request_rate"): IndicatorBaseline(0.0)}


def test_utf8_bom_and_offsets_are_accepted(tmp_path):
    doc = variant(lambda d: d.update(captured_at="2025-11-21T19:00:00+01:00"))
    b = load_baseline(write(tmp_path, b"\xef\xbb\xbf" + json.dumps(doc).encode()))
    assert b.captured_at == datetime(2025, 11, 21, 18, tzinfo=UTC)


def test_example_baseline_matches_schema_and_loader():
    """The checked-in example must load, and the schema file itself must be valid draft 2020-12."""
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator(schema).validate(VALID)
    b = load_baseline(ROOT / "examples" / "baseline.json")
    assert b.values


# -- invalid files: every problem names the file, the JSON path and what is wrong ----------------------------


BAD_FILES = [
    ("not-json", '{"version": 1,', "(document)", "not valid JSON: Expecting property name"),
    ("empty", "", "(document)", "not valid JSON"),
    ("array", "[]", "(document)", "must be an object, got array"),
    (
        "nan",
        json.dumps(VALID).replace("0.2458", "NaN"),
        "services.checkout.indicators.p99_latency.value",
        "NaN is not a finite number",
    ),
    (
        "infinity",
        json.dumps(VALID).replace("0.2458", "Infinity"),
        "services.checkout.indicators.p99_latency.value",
        "Infinity is not a finite number",
    ),
    (
        "minus-infinity",
        json.dumps(VALID).replace("0.01", "-Infinity"),
        "services.checkout.indicators.p99_latency.stddev",
        "-Infinity is not a finite number",
    ),
    (
        "overflow",
        json.dumps(VALID).replace("0.2458", "1e999"),
        "services.checkout.indicators.p99_latency.value",
        "1e999 is not a finite number",
    ),
    (
        "huge-int",
        json.dumps(VALID).replace("268435456", "1" + "0" * 400),
        "services.catalog.indicators.memory.value",
        "too large",
    ),
    (
        "string-value",
        variant(lambda d: indicator(d).update(value="0.2458")),
        "services.checkout.indicators.p99_latency.value",
        'must be a number, got string "0.2458"',
    ),
    (
        "bool-value",
        variant(lambda d: indicator(d).update(value=True)),
        "services.checkout.indicators.p99_latency.value",
        "must be a number, got boolean",
    ),
    (
        "missing-value",
        variant(lambda d: indicator(d).pop("value")),
        "services.checkout.indicators.p99_latency",
        "missing required key 'value'",
    ),
    (
        "float-samples",
        variant(lambda d: indicator(d).update(samples=2.5)),
        "services.checkout.indicators.p99_latency.samples",
        "must be an integer",
    ),
    (
        "negative-samples",
        variant(lambda d: indicator(d).update(samples=-1)),
        "services.checkout.indicators.p99_latency.samples",
        "must not be negative",
    ),
    (
        "negative-stddev",
        variant(lambda d: indicator(d).update(stddev=-0.1)),
        "services.checkout.indicators.p99_latency.stddev",
        "must not be negative",
    ),
    (
        "negative-latency",
        variant(lambda d: indicator(d).update(value=-0.2)),
        "services.checkout.indicators.p99_latency.value",
        "a value in seconds cannot be negative, got -0.2",
    ),
    (
        "negative-latency-implied",
        variant(lambda d: indicator(d).pop("unit") and indicator(d).update(value=-1)),
        "services.checkout.indicators.p99_latency.value",
        "a value in seconds cannot be negative",
    ),
    (
        "ratio-over-one",
        variant(lambda d: indicator(d, name="error_ratio").update(value=1.5)),
        "services.checkout.indicators.error_ratio.value",
        "a ratio must be between 0 and 1, got 1.5",
    ),
    (
        "percent-as-ratio-implied",
        variant(
            lambda d: (
                indicator(d, name="error_ratio").pop("unit")
                and indicator(d, name="error_ratio").update(value=99.9)
            )
        ),
        "services.checkout.indicators.error_ratio.value",
        "divide percentages by 100",
    ),
    (
        "negative-ratio",
        variant(lambda d: indicator(d, name="error_ratio").update(value=-0.1)),
        "services.checkout.indicators.error_ratio.value",
        "between 0 and 1",
    ),
    (
        "negative-bytes",
        variant(lambda d: indicator(d, "catalog", "memory").update(value=-5)),
        "services.catalog.indicators.memory.value",
        "a value in bytes cannot be negative",
    ),
    (
        "negative-cores-implied",
        variant(lambda d: indicator(d, name="cpu").update(value=-0.5)),
        "services.checkout.indicators.cpu.value",
        "a value in cores cannot be negative",
    ),
    (
        "unknown-unit",
        variant(lambda d: indicator(d).update(unit="ms")),
        "services.checkout.indicators.p99_latency.unit",
        'unknown unit "ms"',
    ),
    ("unknown-top-key", variant(lambda d: d.update(baseline={})), "baseline", "unknown key (allowed here: "),
    (
        "unknown-indicator-key",
        variant(lambda d: indicator(d).update(p99=1)),
        "services.checkout.indicators.p99_latency.p99",
        "unknown key (allowed here: profile, requests, samples, stddev, unit, value)",
    ),
    ("version-2", variant(lambda d: d.update(version=2)), "version", "unsupported format version 2"),
    ("missing-release", variant(lambda d: d.pop("release")), "(document)", "missing required key 'release'"),
    (
        "bad-service-name",
        variant(lambda d: d["services"].update({"check out": {"indicators": {"x": {"value": 1}}}})),
        'services["check out"]',
        "invalid name",
    ),
    (
        "long-indicator-name",
        variant(lambda d: d["services"]["checkout"]["indicators"].update({"a" * 64: {"value": 1}})),
        "services.checkout.indicators." + "a" * 64,
        "at most 63 characters",
    ),
    ("empty-services", variant(lambda d: d.update(services={})), "services", "must not be empty"),
    (
        "empty-indicators",
        variant(lambda d: d["services"]["catalog"].update(indicators={})),
        "services.catalog.indicators",
        "must not be empty",
    ),
    (
        "duplicate-key",
        json.dumps(VALID).replace('"cpu": {"value": 0.352}', '"cpu": {"value": 0.352, "value": 1}'),
        "services.checkout.indicators.cpu.value",
        "key given more than once",
    ),
    (
        "naive-time",
        variant(lambda d: d.update(captured_at="2025-11-21T18:00:00")),
        "captured_at",
        "RFC 3339 date-time with a timezone",
    ),
    (
        "impossible-date",
        variant(lambda d: d["window"].update(start="2025-13-01T00:00:00Z")),
        "window.start",
        "month must be in 1..12",
    ),
    (
        "window-backwards",
        variant(lambda d: d["window"].update(start="2025-11-23T00:00:00Z")),
        "window",
        "must be before end",
    ),
    ("not-utf8", b'{"version": 1, "source": "\xff"}', "(document)", "not UTF-8"),
]


@pytest.mark.parametrize(
    ("content", "where", "problem"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_files_name_file_path_and_problem(tmp_path, content, where, problem):
    path = write(tmp_path, content)
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    message = str(info.value)
    assert f"{path}: {where}: " in message, message
    assert problem in message, message
    assert all(issue.file == str(path) for issue in info.value.issues)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(BaselineError, match=rf"{path}: \(document\): cannot read: No such file"):
        load_baseline(path)


def test_all_problems_are_reported_at_once(tmp_path):
    def edit(d: dict) -> None:
        indicator(d).update(value=-1, colour="red")
        indicator(d, name="error_ratio").update(value=2)
        indicator(d, name="cpu").update(value=-3)  # implied unit: checked alongside the schema

    with pytest.raises(BaselineError) as info:
        load_baseline(write(tmp_path, variant(edit)))
    paths = {issue.path for issue in info.value.issues}
    assert paths == {
        "services.checkout.indicators.p99_latency.value",
        "services.checkout.indicators.p99_latency.colour",
        "services.checkout.indicators.error_ratio.value",
        "services.checkout.indicators.cpu.value",
    }


def test_known_services_and_indicators(tmp_path):
    path = write(tmp_path, VALID)
    spec = {"checkout": {"p99_latency", "error_ratio", "cpu", "memory"}, "catalog": {"memory"}}
    assert len(load_baseline(path, known=spec).values) == 4  # indicators the file lacks are fine

    with pytest.raises(BaselineError) as info:
        load_baseline(path, known={"checkout": {"p99_latency", "error_ratio"}})
    message = str(info.value)
    assert f"{path}: services.catalog: service 'catalog' is not in the spec (known: checkout)" in message
    assert (
        f"{path}: services.checkout.indicators.cpu: indicator 'cpu' is not in the spec for service "
        "'checkout' (known: error_ratio, p99_latency)"
    ) in message
    assert len(info.value.issues) == 2


# -- the seed's ga_kpi_summary.json ---------------------------------------------------------------------------


def test_ga_summary_converts_to_base_units_exactly(tmp_path):
    path = write(tmp_path, GA_SUMMARY, "ga_kpi_summary.json")
    b = load_baseline(path, service="checkout")

    assert b.format == "ga_kpi_summary"
    assert b.release_name == "checkout" and b.release_version is None and b.captured_at is None
    assert b.source == "ga_kpi_summary.json (ga_kpi_summary format)"
    assert b.sha256 == hashlib.sha256(GA_SUMMARY.encode()).hexdigest()
    got = {ind: (x.value, x.unit) for (svc, ind), x in b.values.items() if svc == "checkout"}
    assert got == {
        "availability": (0.9995, "ratio"),  # 99.95 %
        "error_ratio": (0.0005, "ratio"),  # 0.05 %
        "p95_latency": (0.1205, "seconds"),  # 120.5 ms
        "p99_latency": (0.2458, "seconds"),  # 245.8 ms (245.8 / 1000 in floats would be 0.24580000000000002)
        "cpu": (0.352, "cores"),  # 35.2 % of one core
        "memory": (452045307.904, "bytes"),  # 42.1 % of 1 GiB
        "db_latency": (0.0153, "seconds"),
        "cache_hit_ratio": (0.975, "ratio"),
    }
    assert got["memory"][0] == float(Fraction("42.1") / 100 * 1073741824)


def test_ga_summary_needs_a_service(tmp_path):
    path = write(tmp_path, GA_SUMMARY, "ga_kpi_summary.json")
    with pytest.raises(
        BaselineError, match=rf"{path}: \(document\): this is a ga_kpi_summary.json .* give the service"
    ):
        load_baseline(path)


def test_ga_summary_with_known_keeps_only_watched_indicators(tmp_path):
    path = write(tmp_path, GA_SUMMARY, "ga_kpi_summary.json")
    b = load_baseline(path, known={"checkout": {"p99_latency", "cpu", "request_rate"}}, service="checkout")
    assert set(b.values) == {("checkout", "p99_latency"), ("checkout", "cpu")}
    with pytest.raises(BaselineError, match="service 'payments' is not in the spec"):
        load_baseline(path, known={"checkout": {"cpu"}}, service="payments")


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (lambda d: d.pop("avg_p99_latency_ms"), "avg_p99_latency_ms", "missing required key"),
        (lambda d: d.update(overall_availability=100.5), "overall_availability", "cannot exceed 100"),
        (lambda d: d.update(avg_cpu_percent=-1), "avg_cpu_percent", "cannot be negative"),
        (lambda d: d.update(avg_memory_percent="42"), "avg_memory_percent", "must be a number"),
    ],
)
def test_ga_summary_errors(tmp_path, edit, where, problem):
    doc = json.loads(GA_SUMMARY)
    edit(doc)
    path = write(tmp_path, doc, "ga_kpi_summary.json")
    with pytest.raises(BaselineError) as info:
        load_baseline(path, service="checkout")
    assert f"{path}: {where}: " in str(info.value) and problem in str(info.value)


def test_ga_summary_rejects_nan(tmp_path):
    path = write(tmp_path, GA_SUMMARY.replace("35.2", "NaN"), "ga_kpi_summary.json")
    with pytest.raises(BaselineError, match=rf"{path}: avg_cpu_percent: NaN is not a finite number"):
        load_baseline(path, service="checkout")


def test_cpu_above_one_core_is_allowed_in_the_summary(tmp_path):
    doc = json.loads(GA_SUMMARY)
    doc["avg_cpu_percent"] = 250.0
    b = load_baseline(write(tmp_path, doc), service="checkout")
    assert b.values[("checkout", "cpu")].value == 2.5


# -- dump and atomic write ----------------------------------------------------------------------------------


def test_dump_is_canonical_and_round_trips(tmp_path):
    b = load_baseline(write(tmp_path, VALID))
    text = dump_baseline(b)
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    shuffled = dict(reversed(list(VALID.items())))
    assert dump_baseline(load_baseline(write(tmp_path, shuffled, "other.json"))) == text
    again = load_baseline(write(tmp_path, text, "again.json"))
    assert again.values == b.values and again.window == b.window and again.captured_at == b.captured_at
    assert again.sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_dump_of_converted_summary_loads_as_native(tmp_path):
    b = load_baseline(write(tmp_path, GA_SUMMARY), service="checkout")
    native = load_baseline(write(tmp_path, dump_baseline(b), "native.json"))
    assert native.format == "slodrift" and native.values == b.values


def test_dump_refuses_what_load_would_refuse():
    bad = Baseline(
        "checkout", None, None, None, None, {("checkout", "error_ratio"): IndicatorBaseline(1.2, "ratio")}
    )
    with pytest.raises(
        BaselineError, match="services.checkout.indicators.error_ratio.value: a ratio must be"
    ):
        dump_baseline(bad)
    nan = Baseline("checkout", None, None, None, None, {("checkout", "x"): IndicatorBaseline(math.nan)})
    with pytest.raises(BaselineError, match="Out of range float values"):
        dump_baseline(nan)


def test_write_is_atomic_and_writes_sha256sum_file(tmp_path):
    b = load_baseline(write(tmp_path, VALID, "input.json"))
    out_dir = tmp_path / "out"
    target = out_dir / "baseline.json"

    digest = write_baseline(target, b)

    assert sorted(os.listdir(out_dir)) == ["baseline.json", "baseline.json.sha256"]  # no temp files left
    data = target.read_bytes()
    assert digest == hashlib.sha256(data).hexdigest()
    assert (out_dir / "baseline.json.sha256").read_text() == f"{digest}  baseline.json\n"
    assert data.decode() == dump_baseline(b)
    assert load_baseline(target).sha256 == digest
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_write_fsyncs_data_before_rename_and_the_directory_after(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(src, dst, **dir_fds):
        events.append(f"replace {Path(dst).name}")
        real_replace(src, dst, **dir_fds)

    monkeypatch.setattr(baseline_writer.os, "fsync", fsync)
    monkeypatch.setattr(baseline_writer.os, "replace", replace)
    write_baseline(tmp_path / "b.json", load_baseline(write(tmp_path, VALID, "input.json")))
    # both files are synced before the first rename; the data is renamed before its digest
    assert events == ["fsync-file", "fsync-file", "replace b.json", "replace b.json.sha256", "fsync-dir"]


def test_overwrite_keeps_mode_and_failed_write_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "baseline.json"
    first = load_baseline(write(tmp_path, VALID, "input.json"))
    write_baseline(target, first)
    target.chmod(0o640)
    second = load_baseline(write(tmp_path, variant(lambda d: indicator(d).update(value=0.3)), "input2.json"))
    write_baseline(target, second)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert load_baseline(target).values[("checkout", "p99_latency")].value == 0.3
    before = target.read_bytes()

    def broken_replace(src, dst, **dir_fds):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(baseline_writer.os, "replace", broken_replace)
    with pytest.raises(BaselineError, match="No space left"):
        write_baseline(target, first)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "baseline.json",
        "baseline.json.sha256",
        "input.json",
        "input2.json",
    ]


# -- capture against a fake Prometheus -------------------------------------------------------------------------

START = datetime(2025, 11, 21, tzinfo=UTC)
END = START + timedelta(hours=1)


def matrix(values: list[str], labels: dict | None = None) -> dict:
    t0 = START.timestamp()
    return {"metric": labels or {}, "values": [[t0 + 60 * i, v] for i, v in enumerate(values)]}


def routed(prom: FakePrometheus, answers: dict[str, Reply]) -> None:
    def route(seen: Seen) -> Reply:
        return answers[seen.params["query"]]

    prom.router = route


def test_capture_computes_mean_population_stddev_and_samples(prom, make_client):
    latency = ["2", "4", "4", "4", "5", "5", "7", "9"]  # mean 5, population stddev exactly 2
    ratio = ["0.001", "NaN", "0.003", "+Inf", "0.002"]  # NaN / Inf (no traffic) are skipped
    rates = ["1", "2", "3", "4", "5"]  # population variance 2
    routed(
        prom,
        {
            "lat": success("matrix", [matrix(latency)]),
            "err": success("matrix", [matrix(ratio)], warnings=["partial response: store-1 down"]),
            "rps": success("matrix", [matrix(rates)]),
        },
    )
    client, _ = make_client(prom.url)
    captured_at = datetime(2025, 11, 22, 0, 5, tzinfo=UTC)

    b = capture_baseline(
        client,
        {
            ("checkout", "p99_latency"): "lat",
            ("checkout", "error_ratio"): "err",
            ("catalog", "request_rate"): "rps",
        },
        START,
        END,
        timedelta(minutes=1),
        release_name="checkout",
        release_version="v1.0.1",
        units={("checkout", "p99_latency"): "seconds", ("checkout", "error_ratio"): "ratio"},
        captured_at=captured_at,
    )

    lat = b.values[("checkout", "p99_latency")]
    # 1m steps of 5m windows: a fifth of the values are independent samples
    assert (lat.value, lat.stddev, lat.samples, lat.unit) == (5.0, 2.0, 1, "seconds")
    err = b.values[("checkout", "error_ratio")]
    finite = [Fraction(x) for x in ("0.001", "0.003", "0.002")]
    assert err.value == float(sum(finite) / 3) == 0.002
    assert err.stddev == statistics.pstdev([0.001, 0.003, 0.002])
    assert err.stddev == pytest.approx(
        math.sqrt(float(sum((x - Fraction(2, 1000)) ** 2 for x in finite) / 3)), rel=1e-15
    )
    assert (err.samples, err.unit) == (1, "ratio")
    rps = b.values[("catalog", "request_rate")]
    assert (rps.value, rps.stddev, rps.samples, rps.unit) == (3.0, math.sqrt(2.0), 1, None)
    # all values fall in 00:00-00:59 UTC: a one-hour profile, the same numbers
    assert rps.profile == (ProfilePoint(0, 3.0, math.sqrt(2.0), 1),)

    assert b.window == Window(START, END) and b.captured_at == captured_at
    assert b.release_name == "checkout" and b.release_version == "v1.0.1"
    assert b.source == f"prometheus {prom.url}"
    assert "checkout/error_ratio: Prometheus warned: partial response: store-1 down" in b.warnings
    assert (
        "checkout/error_ratio: the profile covers 1 of 24 hours of the day; the other hours use the flat baseline"
        in b.warnings
    )
    assert b.sha256 == hashlib.sha256(dump_baseline(b).encode()).hexdigest()
    queried = {s.params["query"]: s.params for s in prom.seen}
    assert queried["lat"] == {
        "query": "lat",
        "start": repr(START.timestamp()),
        "end": repr(END.timestamp()),
        "step": "60.0",
    }
    assert client.queries == 3


def test_capture_written_file_loads_with_same_digest(prom, make_client, tmp_path):
    routed(prom, {"lat": success("matrix", [matrix(["0.25", "0.35"])])})
    client, _ = make_client(prom.url)
    b = capture_baseline(
        client,
        {("checkout", "p99_latency"): "lat"},
        START,
        END,
        "1m",
        release_name="checkout",
        captured_at=END,
    )
    digest = write_baseline(tmp_path / "b.json", b)
    assert digest == b.sha256 == load_baseline(tmp_path / "b.json").sha256
    loaded = load_baseline(tmp_path / "b.json")
    assert loaded.values == b.values
    spread = statistics.pstdev([0.25, 0.35])
    assert loaded.values[("checkout", "p99_latency")] == IndicatorBaseline(
        0.3, None, spread, 1, None, (ProfilePoint(0, 0.3, spread, 1),)
    )


def test_capture_reports_every_indicator_problem_with_its_query(prom, make_client):
    routed(
        prom,
        {
            "empty": success("matrix", []),
            "allnan": success("matrix", [matrix(["NaN", "NaN"])]),
            "many": success("matrix", [matrix(["1"], {"instance": "a"}), matrix(["2"], {"instance": "b"})]),
            "sum(up})": failure(400, "bad_data", '1:8: parse error: unexpected "}"'),
            "ratio": success("matrix", [matrix(["1.2", "1.4"])]),
            "ok": success("matrix", [matrix(["1"])]),
        },
    )
    client, sleeps = make_client(prom.url)
    queries = {
        ("checkout", "a_empty"): "empty",
        ("checkout", "b_allnan"): "allnan",
        ("checkout", "c_many"): "many",
        ("checkout", "d_bad"): "sum(up})",
        ("checkout", "ok"): "ok",
    }

    with pytest.raises(BaselineError) as info:
        capture_baseline(client, queries, START, END, 60, release_name="checkout")

    issues = {i.path: i.message for i in info.value.issues}
    assert set(issues) == {
        f"services.checkout.indicators.{n}" for n in ("a_empty", "b_allnan", "c_many", "d_bad")
    }
    assert (
        "no data: query 'empty' between 2025-11-21T00:00:00Z and 2025-11-21T01:00:00Z returned no samples"
        in (issues["services.checkout.indicators.a_empty"])
    )
    assert "only NaN or infinite samples" in issues["services.checkout.indicators.b_allnan"]
    assert "'allnan'" in issues["services.checkout.indicators.b_allnan"]
    assert "returned 2 series" in issues["services.checkout.indicators.c_many"]
    assert "aggregate it to one series" in issues["services.checkout.indicators.c_many"]
    assert issues["services.checkout.indicators.d_bad"] == (
        "Prometheus rejected the query: 1:8: parse error: unexpected \"}\" (query 'sum(up})')"
    )
    assert all(i.file == f"prometheus {prom.url}" for i in info.value.issues)
    assert sleeps == []  # a bad query is not retried

    with pytest.raises(
        BaselineError, match="services.checkout.indicators.error_ratio.value: a ratio must be"
    ):
        capture_baseline(
            client,
            {("checkout", "error_ratio"): "ratio"},
            START,
            END,
            60,
            release_name="checkout",
            units={("checkout", "error_ratio"): "ratio"},
        )


def test_capture_checks_known_names(prom, make_client):
    routed(prom, {"ok": success("matrix", [matrix(["1"])])})
    client, _ = make_client(prom.url)
    with pytest.raises(BaselineError, match="services.payments: service 'payments' is not in the spec"):
        capture_baseline(
            client,
            {("payments", "cpu"): "ok"},
            START,
            END,
            60,
            release_name="checkout",
            known={"checkout": {"cpu"}},
        )


def test_capture_stops_when_prometheus_is_down(closed_port, make_client):
    client, sleeps = make_client(f"http://127.0.0.1:{closed_port}", max_retries=1)
    queries = {("checkout", "cpu"): "a", ("checkout", "memory"): "b"}
    with pytest.raises(
        BaselineError, match="services.checkout.indicators.cpu: Prometheus unavailable"
    ) as info:
        capture_baseline(client, queries, START, END, 60, release_name="checkout")
    assert len(info.value.issues) == 1  # stopped at the first, did not retry every indicator
    assert client.queries == 1 and len(sleeps) == 1


def test_capture_refuses_naive_or_backwards_windows(prom, make_client):
    client, _ = make_client(prom.url)
    with pytest.raises(BaselineError, match="window.start: .* has no timezone"):
        capture_baseline(
            client, {("checkout", "cpu"): "a"}, datetime(2025, 11, 21), END, 60, release_name="c"
        )
    with pytest.raises(BaselineError, match="window: start 2025-11-21T01:00:00Z must be before end"):
        capture_baseline(client, {("checkout", "cpu"): "a"}, END, START, 60, release_name="c")
    assert prom.seen == []


# -- the hourly profile -----------------------------------------------------------------------------------------

PROFILE = [
    {"hour": 23, "value": 0.21, "stddev": 0.006, "samples": 12, "requests": 73.0},
    {"hour": 0, "value": 0.2, "stddev": 0.005, "samples": 12, "requests": 70.5},
    {"hour": 12, "value": 0.3},
]


def test_profile_and_requests_load_sorted_and_round_trip(tmp_path):
    doc = variant(lambda d: indicator(d).update(requests=182.4, profile=PROFILE))
    b = load_baseline(write(tmp_path, doc))
    p99 = b.values[("checkout", "p99_latency")]
    assert p99.requests == 182.4
    assert p99.profile == (
        ProfilePoint(0, 0.2, 0.005, 12, 70.5),
        ProfilePoint(12, 0.3),
        ProfilePoint(23, 0.21, 0.006, 12, 73.0),
    )
    again = load_baseline(write(tmp_path, dump_baseline(b), "again.json"))
    assert again.values == b.values
    jsonschema.validate(json.loads(dump_baseline(b)), json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (lambda p: p.append({"hour": 0, "value": 0.1}), "profile[3].hour", "hour 0 is given twice"),
        (
            lambda p: p.append({"hour": 24, "value": 0.1}),
            "profile[3].hour",
            "24 is greater than the maximum of 23",
        ),
        (lambda p: p.append({"hour": 5, "value": -0.1}), "profile[3].value", "cannot be negative"),
        (lambda p: p.append({"hour": 5, "value": 0.1, "mean": 2}), "profile[3].mean", "unknown key"),
        (lambda p: p.append({"hour": 5}), "profile[3]", "missing required key 'value'"),
        (lambda p: p[0].update(stddev=-1), "profile[0].stddev", "must not be negative"),
    ],
)
def test_bad_profiles_name_the_point(tmp_path, edit, where, problem):
    points = copy.deepcopy(PROFILE)
    edit(points)
    doc = variant(lambda d: indicator(d).update(profile=points))
    with pytest.raises(BaselineError) as exc:
        load_baseline(write(tmp_path, doc))
    msgs = [str(i) for i in exc.value.issues]
    assert any(f"services.checkout.indicators.p99_latency.{where}" in m and problem in m for m in msgs), msgs


def test_a_ratio_profile_stays_within_0_and_1(tmp_path):
    doc = variant(lambda d: indicator(d, name="error_ratio").update(profile=[{"hour": 3, "value": 1.5}]))
    with pytest.raises(
        BaselineError, match=r"error_ratio\.profile\[0\]\.value: a ratio must be between 0 and 1"
    ):
        load_baseline(write(tmp_path, doc))


def test_capture_records_a_profile_per_utc_hour_with_its_traffic(prom, make_client):
    """Values every 5 minutes over two hours (12 per hour, each an independent 5m window): the hourly
    means, spreads and counts, and the traffic behind each hour, worked out by hand."""
    t0 = START.timestamp()
    hour0 = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]  # mean 0.25, stddev 0.05
    hour1 = [0.4] * 12
    lat = {"metric": {}, "values": [[t0 + 300 * i, repr(v)] for i, v in enumerate(hour0 + hour1)]}
    rps = {"metric": {}, "values": [[t0 + 300 * i, "100" if i < 12 else "300"] for i in range(24)]}
    routed(prom, {"lat": success("matrix", [lat]), "rps": success("matrix", [rps])})
    client, _ = make_client(prom.url)
    b = capture_baseline(
        client,
        {("checkout", "p99_latency"): "lat"},
        START,
        START + timedelta(hours=2),
        "5m",
        release_name="checkout",
        units={("checkout", "p99_latency"): "seconds"},
        traffic={("checkout", "p99_latency"): "rps"},
        captured_at=END,
    )
    p99 = b.values[("checkout", "p99_latency")]
    assert p99.value == pytest.approx(0.325, rel=1e-12) and p99.samples == 24 and p99.requests == 200.0
    (h0, h1) = p99.profile
    assert (h0.hour, h0.samples, h0.requests) == (0, 12, 100.0)
    assert h0.value == pytest.approx(0.25, rel=1e-12) and h0.stddev == pytest.approx(0.05, rel=1e-9)
    assert (h1.hour, h1.samples, h1.requests) == (1, 12, 300.0)
    assert h1.value == pytest.approx(0.4, rel=1e-12) and h1.stddev == pytest.approx(0.0, abs=1e-12)
    assert "the profile covers 2 of 24 hours" in b.warnings[0]
    assert client.queries == 2

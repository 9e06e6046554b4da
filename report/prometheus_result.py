"""The answers of Prometheus' HTTP API, parsed strictly: the JSON envelope (`status`, `error`, `data`,
`warnings`), and vectors, matrices and scalars as `Series` with their float samples (NaN and ±Inf kept)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slodrift.report.prometheus_errors import PrometheusQueryError, PrometheusResponseError

# Prometheus encodes sample values as strings because JSON has no NaN or infinities.
_SPECIAL_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}
RESULT_TYPES = ("vector", "matrix", "scalar")
_BODY_SNIPPET = 200


@dataclass(frozen=True)
class Series:
    """One series of a result: its labels and (unix seconds, value) samples, NaN and ±Inf kept."""

    labels: dict[str, str]
    samples: list[tuple[float, float]]

    @property
    def value(self) -> float:
        """The latest sample's value: what an instant vector or a scalar carries."""
        if not self.samples:
            raise ValueError(f"series {self.labels} has no samples")
        return self.samples[-1][1]


@dataclass(frozen=True)
class QueryResult:
    """A parsed answer. `warnings` (and Prometheus 3's `infos`) flag partial or dubious results."""

    query: str
    result_type: str
    series: list[Series]
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Prometheus warns when a result may be incomplete (e.g. a remote-read source failed)."""
        return bool(self.warnings)


def parse_sample_value(raw: object) -> float:
    """Turn Prometheus' string-encoded sample value into a float ("NaN", "+Inf", "-Inf" included)."""
    if not isinstance(raw, str):
        raise ValueError(f"sample value must be a string, got {type(raw).__name__}")
    special = _SPECIAL_VALUES.get(raw)
    if special is not None:
        return special
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"sample value {raw!r} is not a number") from None


def _parse_sample(raw: object) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise ValueError(f'sample must be [timestamp, "value"], got {raw!r:.80}')
    ts, value = raw
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ValueError(f"sample timestamp must be a number, got {ts!r:.40}")
    return float(ts), parse_sample_value(value)


def _parse_labels(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"`metric` must map label names to strings, got {raw!r:.80}")
    return dict(raw)


def _parse_series(item: object, result_type: str) -> Series:
    if not isinstance(item, dict):
        raise ValueError(f"{result_type} element must be an object, got {item!r:.80}")
    labels = _parse_labels(item.get("metric"))
    if "histogram" in item or "histograms" in item:
        # Native histogram samples have no single float value; the indicators this client serves
        # are floats, so fail loudly rather than silently dropping data.
        raise ValueError(f"series {labels} carries native histogram samples, which are not supported")
    if result_type == "vector":
        if "value" not in item:
            raise ValueError(f"vector element {labels} has no `value`")
        return Series(labels, [_parse_sample(item["value"])])
    values = item.get("values")
    if not isinstance(values, list):
        raise ValueError(f"matrix element {labels} has no `values` list")
    return Series(labels, [_parse_sample(v) for v in values])


def _parse_data(data: object, expected: tuple[str, ...] = RESULT_TYPES) -> tuple[str, list[Series]]:
    if not isinstance(data, dict):
        raise ValueError("`data` is not an object")
    result_type = data.get("resultType")
    result = data.get("result")
    if result_type not in expected:
        raise ValueError(f"resultType {str(result_type)[:40]!r} where {' or '.join(expected)} was expected")
    if result_type == "scalar":
        return result_type, [Series({}, [_parse_sample(result)])]
    if not isinstance(result, list):
        raise ValueError(f"`result` of a {result_type} is not a list")
    return result_type, [_parse_series(item, result_type) for item in result]


def _string_list(payload: Mapping[str, Any], key: str) -> list[str]:
    raw = payload.get(key) or []
    if not isinstance(raw, list):
        raise ValueError(f"`{key}` is not a list")
    return [str(w) for w in raw]


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _BODY_SNIPPET else text[:_BODY_SNIPPET] + "…"


def decode_payload(expr: str, body: str, status: int) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise PrometheusResponseError(expr, "body is JSON nested too deeply", status=status) from None
    except ValueError:
        if 400 <= status < 500:
            # A 404 HTML page usually means a wrong URL prefix; say so rather than blaming JSON.
            raise PrometheusQueryError(expr, f"non-JSON body: {snippet(body)}", status=status) from None
        raise PrometheusResponseError(expr, f"body is not JSON: {snippet(body)!r}", status=status) from None
    if not isinstance(payload, dict) or payload.get("status") not in ("success", "error"):
        raise PrometheusResponseError(expr, f"no `status` success/error in {snippet(body)!r}", status=status)
    return payload


def error_detail(body: str) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return f"body is not JSON: {snippet(body)!r}"
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        kind = payload.get("errorType")
        return f"{kind}: {payload['error']}" if isinstance(kind, str) else payload["error"]
    return snippet(body)


def query_result(expr: str, payload: dict[str, Any], expected: tuple[str, ...] = RESULT_TYPES) -> QueryResult:
    try:
        result_type, series = _parse_data(payload.get("data"), expected)
        warnings = _string_list(payload, "warnings")
        infos = _string_list(payload, "infos")
    except ValueError as exc:
        raise PrometheusResponseError(expr, str(exc)) from None
    return QueryResult(query=expr, result_type=result_type, series=series, warnings=warnings, infos=infos)

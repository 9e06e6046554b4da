"""The state of building one spec: the issues and warnings collected so far, the settings later parts
read (evaluation interval, default grouping), and the checks every part shares (durations, labels,
annotations, group labels). One `Context` per spec load."""

from __future__ import annotations

from slodrift.generator import promql
from slodrift.generator.spec.defaults import DEFAULT_MAX_GROUPS, RESERVED_LABELS
from slodrift.generator.spec.document import Document, SpecIssue
from slodrift.generator.template_check import template_problem

from slodrift.issues import Path_


class Context:
    """Collects semantic problems with their paths while the model is built from schema-valid data."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.issues: list[SpecIssue] = []
        self.bad_templates: set[str] = set()
        self.warnings: list[str] = []
        self.interval = 60
        self.default_group_by: list[str] = []
        self.default_max_groups = DEFAULT_MAX_GROUPS

    def fail(self, path: Path_, message: str) -> None:
        self.issues.append(self.doc.issue(path, message))

    def warn(self, path: Path_, message: str) -> None:
        """Something the loader adapted: printed as `warning:`, never an error."""
        self.warnings.append(str(self.doc.issue(path, message)))

    def duration(self, value: str, path: Path_) -> int:
        try:
            return promql.parse_duration(value)
        except promql.PromQLError as exc:
            self.fail(path, str(exc))
            return 60

    def check_window(self, window: int, path: Path_) -> None:
        if window % 60 or window % self.interval:
            self.fail(
                path,
                f"SLO window {promql.format_duration(window)} must be whole minutes and a whole "
                f"number of evaluation intervals ({promql.format_duration(self.interval)})",
            )

    def labels(self, labels: dict[str, str] | None, path: Path_) -> dict[str, str]:
        out = {}
        for k, v in (labels or {}).items():
            try:
                promql.check_label_name(k)
            except promql.PromQLError as exc:
                self.fail((*path, k), str(exc))
                continue
            if k in RESERVED_LABELS:
                self.fail((*path, k), f"label {k!r} is set by slodrift itself; choose another name")
                continue
            if v == "":
                self.fail(
                    (*path, k),
                    "empty label value: Prometheus treats an empty label as absent, so it "
                    "would vanish from every series; remove the label instead",
                )
                continue
            out[k] = v
        return out

    def annotations(self, annotations: dict[str, str] | None, path: Path_) -> dict[str, str]:
        for k, v in (annotations or {}).items():
            if v in self.bad_templates:
                continue  # inherited from the defaults, and reported there once
            problem = template_problem(v)
            if problem:
                self.bad_templates.add(v)
                self.fail((*path, k), problem)
        return dict(annotations or {})

    def group_by(
        self,
        names: list[str],
        path: Path_,
        static: dict[str, str],
        owner: str = "this SLO (labels:)",
        at: Path_ | None = None,
    ) -> tuple[str, ...]:
        """Group labels: label names of the raw series, none of them set by slodrift or the spec itself
        (a static label of the same name would overwrite every group's value). Issues are reported at
        `path` + index, or at `at` when given (a single label written as a string)."""
        out = []
        for i, name in enumerate(names):
            where = at if at is not None else (*path, i)
            try:
                promql.check_label_name(name)
            except promql.PromQLError as exc:
                self.fail(where, str(exc))
                continue
            if name in RESERVED_LABELS or name in ("event", "long_window", "short_window", "group_by"):
                self.fail(where, f"label {name!r} is set by slodrift itself; it cannot be a group label")
            elif name in static:
                self.fail(
                    where,
                    f"label {name!r} is also a static label of {owner}, which would "
                    "overwrite every group's value; remove one of them",
                )
            else:
                out.append(name)
        return tuple(out)

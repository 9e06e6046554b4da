"""The weekly report's HTML page, parsed as HTML (no browser; tests/test_report_browser.py opens it in
Chromium): built from the JSON documents, self-contained, the summary table with grade badges, the
rollback and PARTIAL banners, PASS/FAIL cells, real lists, charts with their reference lines, and
autoescaping of every value that comes from a spec or from Prometheus."""

from __future__ import annotations

import base64
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from slodrift.report import charts, html
from slodrift.report import writers as rpt
from slodrift.report.scoring_day import Thresholds

from tests.test_report import BAD_DAY, build

pytestmark = pytest.mark.slow


class Tree(HTMLParser):
    """Every element with its attributes and the text inside it (enough to check a page's structure)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = (tag, {k: v or "" for k, v in attrs}, [])
        self.elements.append(el)
        if tag not in ("img", "meta", "br", "input", "link", "hr"):
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el[2].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[str, dict[str, str], list[str]]]:
        """Elements of `tag` whose attributes contain the given values (class: one of its classes)."""

        def match(a: dict[str, str]) -> bool:
            for k, v in attrs.items():
                k = k.rstrip("_").replace("_", "-")
                if k == "class" and v not in a.get("class", "").split() or k != "class" and a.get(k) != v:
                    return False
            return True

        return [e for e in self.elements if e[0] == tag and match(e[1])]


def text(el: tuple[str, dict[str, str], list[str]]) -> str:
    return " ".join(" ".join(el[2]).split())


@pytest.fixture(scope="module")
def report():
    return build()


@pytest.fixture(scope="module")
def page(report) -> str:
    return rpt.weekly_html(report)


def rollback_report():
    """The synthetic week with checkout's rollback criteria met (its recorded reasons, as scoring gives them)."""
    r = build()
    co = r.weeks["checkout"]
    reasons = [
        "average availability 99.839% is below the 99.9% objective",
        "average drift 146.1% exceeds 15%",
    ]
    return dataclasses.replace(
        r,
        weeks={
            **r.weeks,
            "checkout": dataclasses.replace(co, rollback_recommended=True, rollback_reasons=reasons),
        },
    )


def test_page_is_self_contained(page):
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    tree = Tree(page)
    assert not tree.find("script") and not tree.find("link") and not tree.find("iframe")
    # nothing is loaded from anywhere: every image is a data: URI, the CSS has no url() or @import
    images = tree.find("img")
    assert len(images) == 1 + 4 * 2  # the overview, and four charts for each of the two services
    for _, attrs, _ in images:
        assert attrs["src"].startswith("data:image/png;base64,") and attrs["alt"]
        png = base64.b64decode(attrs["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    (style,) = tree.find("style")
    css = "".join(style[2])
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "@media print" in css and "@media (max-width" in css
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)


def test_header_summary_table_and_grade_badges(page, report):
    tree = Tree(page)
    (h1,) = tree.find("h1")
    assert text(h1) == "7-day post-release stability report"
    facts = text(tree.find("dl", class_="facts")[0])
    assert "2025-11-22T00:00:00Z → 2025-11-29T00:00:00Z" in facts and "2025-11-29T00:30:00Z" in facts
    assert "shop" in text(tree.find("p", class_="subtitle")[0])
    rows = tree.find("tr", data_service="checkout") + tree.find("tr", data_service="catalog")
    assert [r[1]["data-service"] for r in rows] == ["checkout", "catalog"]
    badges = tree.find("span", class_="badge")
    grades = [b[1]["data-grade"] for b in badges if "data-grade" in b[1]]
    assert grades.count("A") == 4  # each service: in the summary table and in its own header
    assert all("grade-A" in b[1]["class"] for b in badges if b[1].get("data-grade") == "A")
    # checkout's compliance is 92.9 % < 95 %: red in the table; its availability 99.919 % >= 99.9 %: green
    summary = tree.find("table", class_="summary-table")[0]
    assert summary is not None
    fails = [text(td) for td in tree.find("td", class_="status-fail")]
    assert f"{(6 * 100 + 50) / 7:.1f}%" in fails
    passes = [text(td) for td in tree.find("td", class_="status-pass")]
    assert f"{(6 * 99.99 + 99.495) / 7:.3f}%" in passes
    # no rollback, nothing missing: the green banner, no red or amber one
    assert [b[1]["data-banner"] for b in tree.find("section", class_="banner")] == ["ok"]


def test_key_metrics_lists_and_daily_breakdown(page, report):
    tree = Tree(page)
    # the key metrics are the Markdown's rows (one source: report.metrics), statuses coloured
    md = rpt.weekly_markdown(report)
    md_rows = re.findall(
        r"^\| (Availability|Error Rate|P99 Latency|Drift|Critical Alerts|Days Degraded"
        r"|Availability SLO compliance|Latency SLO compliance) \| ([^|]+) \| ([^|]+) \| (\w+/?\w*) \|$",
        md[md.index("## checkout") : md.index("## catalog")],
        re.M,
    )
    assert len(md_rows) == 8
    km = tree.find("table", class_="key-metrics")[0]
    cells = text(km)
    for name, value, target, status in md_rows:
        assert f"{name} {value.strip()} {target.strip()} {status}" in cells
    # recommendations and action items are real lists
    ols = tree.find("ol", class_="recommendations")
    uls = tree.find("ul", class_="actions")
    assert len(ols) == len(uls) == 2
    items = [text(li) for li in tree.find("li")]
    for rec in report.weeks["checkout"].recommendations + report.weeks["checkout"].action_items:
        assert rec in items
    assert "- [ ]" not in page and "**" not in page and "<pre" not in page
    # the daily breakdown: seven rows per service, the bad day marked degraded
    degraded = tree.find("tr", class_="row-degraded")
    assert len(degraded) == 1 and text(degraded[0]).startswith(
        f"{BAD_DAY} 2025-11-25 99.495% 0.505% 50.0% 50.0% 500ms"
    )
    trends = [text(li) for li in tree.find("ul", class_="trends")]
    assert len(trends) == 2 and "Resources" in trends[0]


def test_rollback_banner_names_the_service_and_its_reasons():
    page = rpt.weekly_html(rollback_report(), with_charts=False)
    tree = Tree(page)
    banners = tree.find("section", class_="banner")
    kinds = [b[1]["data-banner"] for b in banners]
    assert kinds[0] == "rollback", "the rollback banner comes first"
    top = text(banners[0])
    assert "Rollback recommended: checkout" in top
    assert "checkout: average availability 99.839% is below the 99.9% objective" in top
    assert page.index('data-banner="rollback"') < page.index('class="summary"')
    yes = tree.find("span", class_="rollback-yes")
    assert len(yes) == 2 and all(text(y) == "YES" for y in yes)  # the summary row and the service header
    (row,) = tree.find("tr", data_service="checkout")
    assert "row-rollback" in row[1]["class"]


def test_partial_banner_lists_the_warnings_before_any_number():
    partial = build(drop_catalog_day=6)
    page = rpt.weekly_html(partial, with_charts=False)
    tree = Tree(page)
    (top,) = [b for b in tree.find("section", class_="banner") if b[1]["data-banner"] == "partial"][:1]
    assert "PARTIAL REPORT" in text(top)
    assert "catalog: day 6: no availability samples" in text(top)
    assert page.index("PARTIAL REPORT") < page.index('class="summary"')
    (nodata,) = tree.find("tr", class_="row-nodata")
    assert text(nodata).startswith("6 2025-11-27 n/a n/a n/a n/a n/a n/a 0 n/a n/a no_data (0%)")


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>$\\alpha$_&amp;'


def hostile_report():
    """Names and texts no spec would pass (the report takes them as given): markup, mathtext, entities."""
    r = build()
    rename = {"checkout": HOSTILE, "catalog": "_" + HOSTILE}
    days = {rename[k]: [dataclasses.replace(d, service=rename[k]) for d in v] for k, v in r.days.items()}
    weeks = {
        rename[k]: dataclasses.replace(
            w, service=rename[k], recommendations=[HOSTILE], action_items=[HOSTILE], warnings=[HOSTILE]
        )
        for k, w in r.weeks.items()
    }
    release = dataclasses.replace(r.spec.release, name=HOSTILE, version=HOSTILE)
    return dataclasses.replace(
        r, spec=dataclasses.replace(r.spec, release=release), days=days, weeks=weeks, warnings=[HOSTILE]
    )


def test_a_hostile_name_is_text_never_markup():
    page = rpt.weekly_html(hostile_report())  # charts too: matplotlib must not read `$...$` as mathtext
    tree = Tree(page)
    assert not tree.find("script")
    assert all(not k.startswith("on") for _, attrs, _ in tree.elements for k in attrs)
    assert [a["src"][:22] for _, a, _ in tree.find("img")] == ["data:image/png;base64,"] * 9
    assert "<script>alert" not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&amp;amp;" in page  # an entity in a name is shown as typed, not decoded
    headings = [text(h) for h in tree.find("h2")]
    assert HOSTILE in headings and "_" + HOSTILE in headings
    (title,) = tree.find("title")
    assert text(title) == f"Stability report: {HOSTILE} {HOSTILE}"


def test_chart_reference_lines_come_from_the_thresholds(monkeypatch):
    """Each service's charts draw its own objective and threshold, not the defaults."""
    drawn: list[tuple[str, list[charts.RefLine]]] = []
    real = charts.line_chart

    def spy(title, ylabel, series, lines=(), **kw):
        drawn.append((title, list(lines)))
        return real(title, ylabel, series, lines, **kw)

    monkeypatch.setattr(charts, "line_chart", spy)
    days = [d.to_dict() for d in build().days["catalog"]]
    th = Thresholds(availability_objective=0.995, p99_latency_seconds=0.25)
    out = html.service_charts("catalog", days, th, 7)
    assert len(out) == 4 and all(c["uri"].startswith("data:image/png;base64,") for c in out)
    by = dict(drawn)
    assert [(r.value, r.label) for r in by["Availability per day"]] == [(99.5, "objective 99.5 %")]
    assert [(r.value, r.label) for r in by["P99 latency per day"]] == [(250.0, "threshold 250 ms")]
    assert [r.value for r in by["Drift from the release baseline per day"]] == [10.0, 15.0]
    assert [r.value for r in by["Error budget remaining"]] == [0.0]


def test_error_budget_burns_down_by_hand(report):
    # checkout, 99.9 %: a 99.99 % day spends 0.01 / 0.1 / 7 = 1.43 % of the watch's budget,
    # the bad day (99.495 %) spends 0.505 / 0.1 / 7 = 72.14 %
    co = html.error_budget_remaining(report, "checkout")
    normal, bad_day = 100 * 0.01 / 0.1 / 7, 100 * 0.505 / 0.1 / 7
    assert [n for n, _ in co] == list(range(1, 8))
    assert co[BAD_DAY - 2][1] == pytest.approx(100 - 3 * normal)
    assert co[BAD_DAY - 1][1] == pytest.approx(100 - 3 * normal - bad_day)
    assert co[-1][1] == pytest.approx(100 - 6 * normal - bad_day)  # 19.3 % left
    # catalog, 99.5 %: 99.9 % every day spends 0.1 / 0.5 / 7 a day, 80 % left after the week
    assert html.error_budget_remaining(report, "catalog")[-1][1] == pytest.approx(80.0)


def test_a_day_without_data_spends_no_known_budget():
    points = html.error_budget_remaining(build(drop_catalog_day=6), "catalog")
    assert points[5] == (6, None)
    assert points[6][1] == pytest.approx(100 - 6 * 100 * 0.1 / 0.5 / 7)


def test_charts_show_the_lowest_scores_when_there_are_many_services(report, monkeypatch):
    tiny = charts.line_chart("t", "y", {}, size=(1, 1))
    monkeypatch.setattr(charts, "line_chart", lambda *a, **kw: tiny)  # which services, not how they are drawn
    many = dataclasses.replace(
        report,
        days={f"svc{i:02d}": report.days["catalog"] for i in range(20)}
        | {"checkout": report.days["checkout"]},
        weeks={
            f"svc{i:02d}": dataclasses.replace(report.weeks["catalog"], service=f"svc{i:02d}")
            for i in range(20)
        }
        | {"checkout": report.weeks["checkout"]},
    )
    shown = html.chart_services(many)
    assert len(shown) == html.CHART_SERVICES and shown[0] == "checkout"  # the one bad service first
    page = rpt.weekly_html(many)
    assert f"the {html.CHART_SERVICES} of 21 services with the lowest weekly score" in page
    tree = Tree(page)
    assert len([r for r in tree.elements if r[0] == "tr" and r[1].get("data-service")]) == 21
    assert len(tree.find("img")) == 1 + 4 * html.CHART_SERVICES
    assert html.chart_services(report) == list(report.days)  # few services: all of them, in order


def test_write_reports_builds_the_page_from_the_documents_it_writes(report, tmp_path: Path):
    rpt.write_reports(tmp_path, report)
    page = (tmp_path / "weekly_summary.html").read_text()
    tree = Tree(page)
    assert len(tree.find("img")) == 9 and tree.find("table", class_="summary-table")
    assert "<td>" not in page.split("<tbody>")[0]

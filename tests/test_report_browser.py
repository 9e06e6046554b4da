"""The weekly report opened in headless Chromium, as a reader would see it: no console errors, nothing
fetched from anywhere, every image loaded, the tables, grade badges and banners in the DOM with their
styles applied, no sideways scrolling at 1280 px or at phone width, a print layout, and a hostile
service name that stays text. Screenshots are kept in the test's tmp dir; with
SLODRIFT_SCREENSHOTS=DIR (`make screenshots`) the README's copies are written there too."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from slodrift.report import writers as rpt

from tests.browser import Chromium, Page, chromium_binary
from tests.test_report import STEP, T0, build, fetched
from tests.test_report_html import HOSTILE, hostile_report

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

DESKTOP = (1280, 900)
PHONE = (390, 844)


def week_with_a_rollback():
    """The synthetic week of tests/test_report.py with checkout bad on days 4 and 5 (06:00-18:00) and
    catalog's day 6 missing: two degraded days and availability under the objective (rollback), and a
    PARTIAL report. Every number on the page comes from these samples through the real scoring."""
    from slodrift.generator.spec import load_spec_text
    from slodrift.report import stability

    from tests import week

    f = fetched(drop_catalog_day=6)
    bad = {
        "availability": 0.99,
        "error_ratio": 0.01,
        "availability_compliant": 0.0,
        "latency_compliant": 0.0,
        "p95_latency": 0.6,
        "p99_latency": 0.8,
        "drift:p99_latency": 0.6,
    }
    lo, hi = T0 + 4 * 86400 + 6 * 3600, T0 + 4 * 86400 + 18 * 3600  # day 5, 06:00-18:00
    co = f.series["checkout"]
    for key, value in bad.items():
        co[key] = [(t, value if lo < t <= hi else v) for t, v in co[key]]
    spec = load_spec_text("week.yml", week.SPEC.encode())
    start, at = build().watch_start, build().at
    return stability.build(spec, f, start, at, STEP)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: run scripts/install.sh")
    tmp = tmp_path_factory.mktemp("chromium")
    with Chromium(tmp / "profile", tmp / "chromium.log") as b:
        yield b


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report files as `slodrift report` writes them (the page from the JSON documents beside it)."""
    out = tmp_path_factory.mktemp("report")
    r = week_with_a_rollback()
    assert r.weeks["checkout"].rollback_recommended and r.partial  # the scenario is what it claims
    rpt.write_reports(out, r)
    return out / "weekly_summary.html"


def keep(page: Page, path: Path, name: str, max_height: int | None = None) -> Path:
    """Screenshot into the test's tmp dir; also (quantised, small) into $SLODRIFT_SCREENSHOTS."""
    shot = page.screenshot(path / f"{name}.png")
    assert shot.stat().st_size > 10_000
    if dest := os.environ.get("SLODRIFT_SCREENSHOTS"):
        from PIL import Image

        img = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
        if max_height and img.height > max_height:
            img = img.crop((0, 0, img.width, max_height))
        Path(dest).mkdir(parents=True, exist_ok=True)
        img.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(
            Path(dest) / f"{name}.png", optimize=True
        )
    return shot


def no_sideways_scroll(page: Page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width} > {inner} px"


def test_the_report_in_chromium_at_1280_px(browser, written, tmp_path):
    page = browser.open(written.as_uri(), *DESKTOP)
    assert page.console_errors() == []
    # offline: the page itself is the only request; the images are data: URIs inside it
    assert [u for u in page.requests() if not u.startswith("data:")] == [written.as_uri()]
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])"
    )
    assert len(images) == 9
    for complete, w, h, alt in images:
        assert complete and w > 300 and h > 150 and alt, (complete, w, h, alt)
    dom = page.evaluate(
        """(() => {
        const q = s => Array.from(document.querySelectorAll(s));
        const style = (el, p) => getComputedStyle(el)[p];
        const rb = document.querySelector('[data-banner="rollback"]');
        const partial = document.querySelector('[data-banner="partial"]');
        return {
          summaryRows: q('table.summary-table tbody tr').map(r => r.dataset.service),
          grades: q('table.summary-table .badge[data-grade]').map(b => [b.dataset.grade, style(b, 'backgroundColor')]),
          rollback: rb && rb.innerText, rollbackBg: rb && style(rb, 'backgroundColor'),
          rollbackBadges: q('.rollback-yes').map(b => [b.innerText, style(b, 'backgroundColor')]),
          partial: partial && partial.innerText, partialBg: partial && style(partial, 'backgroundColor'),
          bannerOrder: q('[data-banner]').slice(0, 2).map(b => b.dataset.banner),
          fails: q('td.status-fail').map(td => [td.innerText, style(td, 'color')]),
          passes: q('td.status-pass').length,
          sections: q('section.service').map(s => s.dataset.service),
          keyMetricRows: q('section.service table.key-metrics tbody tr').length,
          dailyRows: q('table.daily tbody tr').length,
          degradedRows: q('tr.row-degraded').map(r => r.cells[0].innerText),
          recs: q('ol.recommendations li').length, actions: q('ul.actions li').length,
          h1: document.querySelector('h1').innerText,
        };
    })()"""
    )
    assert dom["summaryRows"] == ["checkout", "catalog"]
    weekly = json.loads((written.parent / "weekly_summary.json").read_text())  # what the page is built from
    assert [g for g, _ in dom["grades"]] == [weekly["services"][s]["grade"] for s in ("checkout", "catalog")]
    assert all(bg not in ("rgba(0, 0, 0, 0)", "transparent") for _, bg in dom["grades"])  # the CSS applied
    assert dom["bannerOrder"] == ["rollback", "partial"]
    assert "Rollback recommended: checkout" in dom["rollback"] and "days degraded" in dom["rollback"]
    assert dom["rollbackBg"] == "rgb(255, 235, 233)" and dom["partialBg"] == "rgb(255, 248, 197)"
    assert "catalog: day 6: no availability samples" in dom["partial"]
    assert [t for t, _ in dom["rollbackBadges"]] == ["YES", "YES"]
    assert all(bg == "rgb(207, 34, 46)" for _, bg in dom["rollbackBadges"])
    assert dom["fails"] and all(color == "rgb(207, 34, 46)" and text for text, color in dom["fails"])
    assert dom["passes"] > 10
    assert dom["sections"] == ["checkout", "catalog"]
    assert dom["keyMetricRows"] == 16 and dom["dailyRows"] == 14
    assert dom["degradedRows"] == ["4", "5"]
    assert dom["recs"] >= 3 and dom["actions"] >= 3
    assert dom["h1"] == "7-day post-release stability report"
    no_sideways_scroll(page)
    keep(page, tmp_path, "report-desktop", max_height=1500)


def test_the_report_at_phone_width(browser, written, tmp_path):
    page = browser.open(written.as_uri(), *PHONE, mobile=True)
    assert page.console_errors() == []
    no_sideways_scroll(page)  # wide tables scroll inside their own box, the page does not
    layout = page.evaluate(
        """(() => {
        const wrap = document.querySelector('.table-wrap');
        const imgs = Array.from(document.images).map(i => i.getBoundingClientRect().width);
        const cols = getComputedStyle(document.querySelector('.columns')).gridTemplateColumns.split(' ').length;
        return {wrapScrolls: getComputedStyle(wrap).overflowX, maxImg: Math.max(...imgs), columns: cols,
                fontSize: parseFloat(getComputedStyle(document.body).fontSize)};
    })()"""
    )
    assert layout["wrapScrolls"] == "auto" and layout["maxImg"] <= PHONE[0]
    assert layout["columns"] == 1 and layout["fontSize"] >= 13
    keep(page, tmp_path, "report-phone", max_height=1400)


def test_the_report_prints(browser, written, tmp_path):
    page = browser.open(written.as_uri(), *DESKTOP)
    page.media("print")
    printed = page.evaluate(
        """(() => ({
        nav: getComputedStyle(document.querySelector('nav.toc')).display,
        breaks: Array.from(document.querySelectorAll('section.service')).map(s => getComputedStyle(s).breakBefore),
        banner: getComputedStyle(document.querySelector('.banner')).breakInside,
    }))()"""
    )
    assert printed == {"nav": "none", "breaks": ["page", "page"], "banner": "avoid"}
    pdf = page.pdf(tmp_path / "report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
    assert page.console_errors() == []


def test_a_hostile_service_name_runs_nothing_in_the_browser(browser, tmp_path):
    path = tmp_path / "hostile.html"
    path.write_text(rpt.weekly_html(hostile_report()))
    page = browser.open(path.as_uri(), *DESKTOP)
    assert page.dialogs() == [] and page.console_errors() == []
    assert [u for u in page.requests() if not u.startswith("data:")] == [path.as_uri()]  # no <img src=x>
    found = page.evaluate(
        """(() => ({scripts: document.scripts.length, images: document.images.length,
        headings: Array.from(document.querySelectorAll('.service-head h2')).map(h => h.textContent)}))()"""
    )
    assert found == {"scripts": 0, "images": 9, "headings": [HOSTILE, "_" + HOSTILE]}


def test_the_dashboard_layout_mock_draws_every_panel(browser, tmp_path):
    """Grafana does not run here: a mock draws dashboards/slodrift.json's grid for the README, and the
    browser confirms every panel is on it, inside the 24 columns, none on top of another."""
    from tests.dashboard_mock import COLUMN, mock_html
    from tests.helpers import ROOT

    d = json.loads((ROOT / "dashboards" / "slodrift.json").read_text())
    path = tmp_path / "dashboard.html"
    path.write_text(mock_html(d))
    page = browser.open(path.as_uri(), 1240, 900)
    assert page.console_errors() == []
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('[data-panel]')).map(e => {"
        "const r = e.getBoundingClientRect(); return [e.dataset.panel, r.left, r.top, r.right, r.bottom]; })"
    )
    expected = [
        str(q["id"]) for p in d["panels"] for q in [p, *([] if p.get("collapsed") else p.get("panels", []))]
    ]
    assert sorted(b[0] for b in boxes) == sorted(expected)
    left = min(b[1] for b in boxes)
    for i, (pid, x0, y0, x1, y1) in enumerate(boxes):
        assert x1 - left <= 24 * COLUMN + 1, pid
        for other, a0, b0, a1, b1 in boxes[i + 1 :]:
            assert x1 <= a0 or a1 <= x0 or y1 <= b0 or b1 <= y0, (pid, other)
    keep(page, tmp_path, "dashboard-layout")

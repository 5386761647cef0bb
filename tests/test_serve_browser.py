"""`clause serve` in a real headless browser (Debian's Chromium driven by Playwright), as a practitioner uses it.

Skipped, with a plain message, when there is no Chromium (`.ci/run` installs it) or no Playwright.
With CLAUSE_SCREENSHOTS=FOLDER the tests also save the README's screenshots there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from serving import served

CHROMIUM = os.environ.get("CLAUSE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = os.environ.get("CLAUSE_SCREENSHOTS")

if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests skipped: Playwright is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """A synthetic half-year of 40 children, judged at a fixed time, so there is work in every state."""
    from compiler.core.london import parse_instant
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    folder = tmp_path_factory.mktemp("site") / "bulk"
    write_bulk(synthesize(40, 7), folder)
    with served(folder, at=parse_instant("2024-06-14T12:00")) as (base, source):
        source.snapshot()  # evaluated before the browser asks, so no page waits on it
        yield base


def _page(browser, javascript: bool = True):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, java_script_enabled=javascript,
                                  locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    page.violations = []
    page.on("console", lambda m: page.violations.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def _rows(page) -> list[list[str]]:
    """Every worklist row's cell texts, read in one call (a round trip per cell took 45 s for 500 rows)."""
    return page.eval_on_selector_all(
        "table.worklist tbody tr", "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText.trim()))")


def test_the_worklist_loads_and_a_filter_narrows_it(browser, site: str) -> None:
    page = _page(browser)
    page.goto(site + "/")
    assert page.title() == "Worklist · Clause"
    rows = _rows(page)
    assert len(rows) > 20 and rows[0][1].startswith("OVERDUE")  # overdue first
    assert page.eval_on_selector("tr.state-overdue td", "td => getComputedStyle(td).borderLeftWidth") == "5px"
    _shot(page, "worklist.png")
    actor = "team_manager"
    page.select_option("select[name=actor]", actor)  # the script applies a changed filter at once
    page.wait_for_url("**actor=team_manager**")
    narrowed = _rows(page)
    assert 0 < len(narrowed) < len(rows) and all(r[5] == "team manager" for r in narrowed)
    assert not page.violations


def test_the_worklist_works_without_javascript(browser, site: str) -> None:
    page = _page(browser, javascript=False)
    page.goto(site + "/")
    page.select_option("select[name=state]", "overdue")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=overdue**")
    rows = _rows(page)
    assert rows and all(r[1].startswith("OVERDUE") for r in rows)


def test_a_child_page_shows_the_timeline_and_why_of_an_overdue_duty(browser, site: str) -> None:
    page = _page(browser)
    page.goto(site + "/?state=overdue&actor=allocated_social_worker")
    page.click("table.worklist tbody tr td:nth-child(3) a")
    page.wait_for_url("**/child?id=**")
    assert page.query_selector_all("ol.timeline li.ev-reported")
    assert page.query_selector("ol.timeline li.ev-due.state-overdue")
    duty = page.query_selector("details.duty.state-overdue")
    assert duty.get_attribute("open") is not None  # overdue duties open with their why
    why = duty.inner_text()
    assert "because" in why and duty.query_selector("blockquote") and ".csv:" in why  # clause, sentence, fact and line
    assert duty.is_visible()
    page.set_viewport_size({"width": 1360, "height": 1500})
    _shot(page, "child.png")
    page.select_option("select[name=action]", "cp_conference")
    page.click(".whynot button")
    page.wait_for_url("**/why-not?**")
    assert "Why not cp conference" in page.inner_text("h1")
    assert not page.violations


def test_the_report_renders_its_charts(browser, site: str) -> None:
    page = _page(browser)
    page.goto(site + "/report?from=2024-01-01&to=2024-05-31")
    charts = page.query_selector_all("img.chart")
    assert len(charts) == 2
    for chart in charts:
        assert chart.evaluate("img => img.complete && img.naturalWidth > 300 && img.naturalHeight > 100")
    assert "Trend by month" in page.inner_text("main") and "return interview within 72 hours" in page.inner_text("main")
    _shot(page, "report.png")
    assert not page.violations
    page.emulate_media(media="print")
    assert page.eval_on_selector("header.top", "h => getComputedStyle(h).display") == "none"
    pdf = page.pdf(format="A4")  # prints on A4
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 1

"""/statistik in Chromium: from a search to its statistics, axe-core, the charts' names and contrast, no CSP
violation."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(x) for x in re.findall(r"\d+", css)[:3])  # type: ignore[return-value]


def test_a_search_leads_to_its_statistics_with_accessible_charts(page, check_a11y):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/?q=Rettungsdienst")
    page.get_by_role("link", name="Statistik zu dieser Ergebnisliste").click()
    page.wait_for_url(re.compile(r"/statistik\?q=Rettungsdienst"))
    check_a11y(page)
    heading = page.locator("#gesamt").inner_text()
    assert "Kooperation" in heading and "Rettungsdienst" in heading
    chart = page.get_by_role("img", name="Kooperationen nach Status")
    assert chart.is_visible()
    table = page.locator("table", has=page.locator("caption", has_text="Kooperationen nach Status"))
    assert table.locator("tbody tr").count() == 4
    # bars against the page background at least 3:1, the numbers drawn in the chart at least 4.5:1
    background = rgb(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    bar = chart.locator("rect").first
    assert contrast(rgb(bar.evaluate("e => getComputedStyle(e).fill")), background) >= 3
    label = chart.locator("text").first
    assert contrast(rgb(label.evaluate("e => getComputedStyle(e).fill")), background) >= 4.5
    # narrowing on the statistics page keeps the search page's query string
    page.locator("#status-ACTIVE").check()
    page.get_by_role("button", name="Filter anwenden").click()
    page.wait_for_url(re.compile(r"status=ACTIVE"))
    assert page.locator("#status-ACTIVE").is_checked()
    check_a11y(page)
    page.get_by_role("link", name="Zur Ergebnisliste mit diesen Filtern").click()
    page.wait_for_url(re.compile(r"/\?q=Rettungsdienst&status=ACTIVE"))
    assert not violations, violations

"""Headless Chromium (Debian's, never a downloaded one) on a real ``dripline serve``: a page
whose every request off the origin is aborted and logged, whose console errors are kept,
and the checks every screen must pass (no overflow at 1280 and 390 px, axe-core)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from tests.console.build_stamp import AXE

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = (1280, 390)
KEY_ITEM = "dripline.key"  # the sessionStorage item the console keeps the key in
SERIOUS = ("serious", "critical")
# Numbers every visible, enabled control (data-kb): with a modal dialog open, only the
# dialog's (the page behind it is not for the keyboard then). Answers how many controls the
# whole page shows: enough Tabs to walk past them all.
_MARK_CONTROLS = """() => {
  document.querySelectorAll('[data-kb]').forEach(e => { delete e.dataset.kb; });
  const shown = scope => [...scope.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]')].filter(e => !e.disabled
    && e.tabIndex >= 0
    && e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}));
  const modal = document.querySelector('[aria-modal=true]');
  shown(modal ?? document).forEach((e, i) => { e.dataset.kb = String(i); });
  return shown(document).length;
}"""
_UNREACHED = """reached => [...document.querySelectorAll('[data-kb]')]
  .filter(e => !reached.includes(e.dataset.kb))
  .map(e => e.outerHTML.slice(0, 80))"""


def require_chromium() -> None:
    """Chromium is installed by `make test` (apt); missing, CI fails and a laptop skips."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: `make browser` (apt-get install chromium) installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class Guarded:
    """One browser context on ``base``: signed in with ``key`` unless it is None."""

    context: BrowserContext
    page: Page
    base: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, base: str, key: str | None, width: int = 1280) -> Guarded:
        context = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
        guarded = cls(context, context.new_page(), base)
        context.route("**/*", guarded._route)
        if key is not None:
            context.add_init_script(
                f"sessionStorage.setItem({json.dumps(KEY_ITEM)}, {json.dumps(key)})")
        guarded.page.on("console", lambda m: guarded.errors.append(m.text)
                        if m.type == "error" else None)
        guarded.page.on("pageerror", lambda e: guarded.errors.append(str(e)))
        return guarded

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url == self.base or url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def goto(self, path: str, ready: str) -> Page:
        """Open ``path`` and wait until the selector ``ready`` is visible."""
        self.page.goto(path)
        self.page.locator(ready).first.wait_for()
        return self.page

    def settle(self) -> None:
        """Every request the screen made has been answered."""
        self.page.wait_for_load_state("networkidle")

    def unexpected_errors(self, *answered: int) -> list[str]:
        """Console errors but Chromium's own line for an answer with one of the ``answered``
        statuses (a 401, 412 or 422 the screen asked for and showed)."""
        allowed = tuple(f"the server responded with a status of {code} " for code in answered)
        return [e for e in self.errors if not any(a in e for a in allowed)]

    def check_screen(self, *answered: int) -> None:
        """Nothing left the origin, nothing was logged as an error (but the answers with a
        status in ``answered``), nothing overflows at either width, and axe-core finds no
        serious or critical violation at either."""
        self.settle()
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            sizes = self.page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]")
            assert sizes[0] <= sizes[1], f"horizontal overflow at {width} px: {sizes}"
            violations = self.axe()
            assert violations == [], f"axe-core at {width} px: {violations}"
        self.page.set_viewport_size({"width": 1280, "height": 900})
        missed = self.unreachable_by_keyboard()
        assert missed == [], f"controls Tab never reaches: {missed}"
        assert self.outside == [], "requests off the origin"
        assert self.unexpected_errors(*answered) == [], "console errors"

    def unreachable_by_keyboard(self) -> list[str]:
        """The visible, enabled controls that Tab (from the top of the page) never focuses."""
        count: int = self.page.evaluate(_MARK_CONTROLS)
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        self.page.evaluate("window.scrollTo(0, 0)")
        reached: set[str] = set()
        for _ in range(count + 5):  # the skip link and a few more than the controls
            self.page.keyboard.press("Tab")
            mark = self.page.evaluate("document.activeElement?.dataset?.kb ?? null")
            if mark is not None:
                reached.add(mark)
        missed: list[str] = self.page.evaluate(_UNREACHED, sorted(reached))
        return missed

    def axe(self) -> list[str]:
        """Serious and critical violations, injected here only (the console never loads it).
        Evaluated over the protocol, which the page's CSP does not govern."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())
        found: list[dict[str, Any]] = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
        return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
                for v in found if v["impact"] in SERIOUS]

    def close(self) -> None:
        self.context.close()

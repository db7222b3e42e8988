"""Every screen of the console in headless Chromium against a real `dripline serve`
(CAPABILITIES §6, acceptance 1 and 6): with every request off the origin aborted and
logged, it loads with nothing logged and no console error, does not overflow at 1280 or
390 px, and axe-core finds no serious violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.console.browser import Guarded
from tests.console.conftest import KEY, World


@pytest.fixture
def signed_in(browser: Browser, world: World) -> Iterator[Guarded]:
    guarded = Guarded.open(browser, world.base, KEY)
    yield guarded
    guarded.close()


def test_sign_in_with_a_wrong_key_shows_the_401_problem_then_a_right_one_enters(
        browser: Browser, world: World) -> None:
    guarded = Guarded.open(browser, world.base, key=None)
    try:
        page = guarded.goto("/", "#key")
        assert page.url == f"{world.base}/console/"
        guarded.check_screen()
        page.fill("#key", "not-a-key")
        page.click("button[type=submit]")
        problem = page.get_by_role("alert")
        problem.wait_for()
        assert "Unauthorized: send a valid API key" in problem.inner_text()
        # The browser logs the 401 answer itself; it is the one error this screen may show.
        assert guarded.unexpected_errors(401) == []
        guarded.errors.clear()
        page.fill("#key", KEY)
        page.click("button[type=submit]")
        page.get_by_role("heading", name="Sequences").wait_for()
        assert page.evaluate("sessionStorage.getItem('dripline.key')") == KEY
        assert guarded.outside == []
    finally:
        guarded.close()


@pytest.mark.parametrize(("path", "ready"), [
    ("/console/sequences", "text=Lead Nurture"),
    ("/console/enrollments", "table >> text=c-0"),
    ("/console/operations", "[data-probe=readyz]"),
    ("/console/templates", "tr[data-template='builtin:lead-nurture']"),
])
def test_each_list_screen_loads_clean(signed_in: Guarded, path: str, ready: str) -> None:
    signed_in.goto(path, ready)
    signed_in.check_screen()


def test_the_sequence_screen_loads_clean(signed_in: Guarded, world: World) -> None:
    page = signed_in.goto(f"/console/sequences/{world.draft['id']}", ".step-card")
    assert page.locator(".step-name").all_inner_texts() == [s["name"] for s in world.draft["steps"]]
    assert page.locator(".delay-pill").all_inner_texts() == [
        "wait 0 minutes", "wait 2 days", "wait 5 days"]
    signed_in.check_screen()


def test_the_enrollment_screen_loads_clean(signed_in: Guarded, world: World) -> None:
    [first] = world.get(f"/api/v1/automation/sequences/{world.active['id']}/enrollments",
                        status="active", limit=1)["items"]
    page = signed_in.goto(f"/console/enrollments/{first['id']}", ".why-timeline li")
    why = world.get(f"/api/v1/automation/enrollments/{first['id']}/why")
    assert page.locator("[data-why=reason]").inner_text() == why["waiting"]["reason"]
    assert page.locator(".why-timeline li").count() == len(why["timeline"])
    assert page.locator("pre").count() == 0  # the answer in words, not raw
    signed_in.check_screen()


def test_the_analytics_screen_loads_clean(signed_in: Guarded, world: World) -> None:
    signed_in.goto(f"/console/sequences/{world.active['id']}/analytics", "[data-daily-total]")
    signed_in.check_screen()

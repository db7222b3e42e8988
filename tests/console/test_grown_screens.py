"""Screens that grew as their APIs landed (CAPABILITIES §6): the operations screen shows the
stuck list and the tenant's caps and throttles; the analytics screen a sequence's A/B tests.
Each number is checked against the API's own answer."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.browser import Guarded
from tests.console.conftest import V1, World, make_ab_test


def test_operations_shows_the_stuck_list_and_the_tenant_settings(
        console: Guarded, world: World) -> None:
    version = world.get(f"{V1}/settings")["version"]
    changed = world.api.put(f"{V1}/settings", headers={"If-Match": str(version)}, json={
        "timezone": "Europe/Berlin", "throttle": {"email": {"per_minute": 90000}},
        "frequency_cap": {"rules": [{"channel": None, "max_messages": 90000,
                                     "window": "rolling_24h"}], "on_cap": "skip"}})
    assert changed.status_code == 200, changed.text
    page = console.goto("/console/operations", "[data-setting=throttle]")
    shown = {name: page.locator(f"#{name}").input_value() for name in (
        "timezone", "throttle-0-channel", "throttle-0-per-minute", "rule-0-channel",
        "rule-0-max", "rule-0-window", "on-cap")}
    assert shown == {"timezone": "Europe/Berlin", "throttle-0-channel": "email",
                     "throttle-0-per-minute": "90000", "rule-0-channel": "", "rule-0-max": "90000",
                     "rule-0-window": "rolling_24h", "on-cap": "skip"}
    assert page.locator("[data-rule]").count() == 1
    stuck = world.get(f"{V1}/ops/stuck")
    page.locator("[data-stuck=total]").wait_for()
    assert page.locator("[data-stuck=total]").inner_text() == str(stuck["total"])
    assert page.locator("[data-stuck=behind_events]").inner_text() == (
        f"{stuck['projection_lag']['behind_events']} events")
    console.check_screen()


def test_analytics_shows_a_sequences_ab_test_as_the_api_does(
        console: Guarded, world: World) -> None:
    sid = make_ab_test(world.api, "Tested")["id"]
    enrolled = world.api.post(f"{V1}/sequences/{sid}/enroll/bulk",
                              json={"contact_ids": [f"ab-{n}" for n in range(6)]})
    assert enrolled.status_code in (200, 201, 202), enrolled.text
    page = console.goto(f"/console/sequences/{sid}/analytics", "[data-experiment=opener]")
    [view] = world.get(f"{V1}/sequences/{sid}/experiments")["items"]
    expect(page.locator("[data-experiment=opener] .badge")).to_have_text(view["status"])
    for arm in view["arms"]:
        row = page.locator(f"[data-experiment=opener] tr[data-arm={arm['key']}]")
        cells = row.locator("td").all_inner_texts()
        assert cells[2:6] == [str(arm[k]) for k in ("assigned", "exposures", "matured",
                                                      "successes")]
        p = arm["p_value_vs_best"]
        assert cells[7] == ("—" if p is None else f"{p:.4f}")
    assert sum(a["assigned"] for a in view["arms"]) + view["holdout"]["assigned"] <= 6
    console.check_screen()


def test_analytics_of_a_sequence_without_tests_says_so(
        console: Guarded, world: World) -> None:
    console.goto(f"/console/sequences/{world.active['id']}/analytics",
                 "[data-experiments='0']")
    assert world.get(f"{V1}/sequences/{world.active['id']}/experiments")["total"] == 0
    console.check_screen()

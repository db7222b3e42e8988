"""The builder's step inspector in Chromium (CAPABILITIES §6, screen 3): the variable picker,
the conditions editor, content-variant tabs and the live preview, each checked through the
public API afterwards."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.console.browser import Guarded
from tests.console.conftest import KEY, V1, World, make_sequence
from tests.e2e.server import poll


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Unsaved changes").wait_for(state="detached")


def _builder(console: Guarded, world: World, name: str) -> tuple[dict[str, Any], Page]:
    """A new draft with the three fixture steps, open in the builder."""
    sequence = make_sequence(world.api, name, activate=False)
    return sequence, console.goto(f"/console/sequences/{sequence['id']}", ".step-card")


def _tab(page: Page, name: str) -> Locator:
    return page.get_by_role("tab", name=name, exact=True)


def _step(world: World, sid: str, order: int) -> dict[str, Any]:
    steps = world.get(f"{V1}/sequences/{sid}")["steps"]
    return next(s for s in steps if s["order"] == order)


def test_a_variable_goes_in_at_the_caret_by_keyboard_and_is_saved(
        console: Guarded, world: World) -> None:
    sequence, page = _builder(console, world, "Picker")
    sid = sequence["id"]
    content = page.locator("#step-content")
    content.fill("Hello , welcome")
    content.evaluate("e => { e.focus(); e.setSelectionRange(6, 6); }")
    # Keyboard only: the arrow key chooses (contact.name is first, contact.email next),
    # Tab reaches Insert, Enter inserts; focus comes back to the text, after the variable.
    page.locator("#step-variable").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#step-variable")).to_have_value("contact.email")
    expect(content).to_have_value("Hello , welcome")  # choosing alone inserts nothing
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Insert", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(content).to_have_value("Hello {{contact.email}}, welcome")
    expect(content).to_be_focused()
    assert content.evaluate("e => [e.selectionStart, e.selectionEnd]") == [23, 23]
    # The message's own variables: a static value by name, and a fallback for a contact fact.
    for key, value in (("offer", "20% off"), ("contact.name", "there")):
        page.get_by_label("New key").fill(key)
        page.get_by_label("New value").fill(value)
        page.get_by_role("button", name="Add variable").click()
    page.get_by_label("Insert a variable").select_option("offer")  # now offered
    page.get_by_role("button", name="Insert", exact=True).click()
    expect(content).to_have_value("Hello {{contact.email}}{{offer}}, welcome")
    _save(page)
    template = _step(world, sid, 0)["message_template"]
    assert template["content"] == "Hello {{contact.email}}{{offer}}, welcome"
    assert template["variables"] == {"offer": "20% off", "contact.name": "there"}
    console.check_screen()


def test_a_condition_422_shows_beside_its_value_then_the_fixed_one_is_saved(
        console: Guarded, world: World) -> None:
    sequence, page = _builder(console, world, "Conditions")
    sid = sequence["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    page.locator("#step-1").click()
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_role("button", name="Add a condition").click()
    page.locator("#condition-0-value").fill("not this one")
    page.get_by_role("button", name="Remove condition 1").click()
    expect(page.locator("[data-condition]")).to_have_count(1)
    page.locator("#condition-0-type").select_option("custom_field")
    # The operators follow the type.
    assert page.locator("#condition-0-operator option").all_inner_texts() == [
        "equals", "not equals", "contains", "greater than", "less than"]
    page.locator("#condition-0-field").fill("score")
    page.locator("#condition-0-operator").select_option("greater_than")
    page.locator("#condition-0-value").fill("lots")
    page.get_by_role("button", name="Save").click()
    error = page.locator(".field:has(#condition-0-value) #condition-0-value-error")
    expect(error).to_have_text("must be a number for this operator; got 'lots'")
    assert page.locator("#condition-0-value").get_attribute("aria-invalid") == "true"
    assert world.get(f"{V1}/sequences/{sid}") == before
    console.check_screen(422)
    page.locator("#condition-0-value").fill("10")
    _save(page)
    assert _step(world, sid, 1)["conditions"] == [
        {"type": "custom_field", "operator": "greater_than", "value": "10", "field": "score"}]
    # A day window on the last reply: the field is a choice, the value a day count.
    page.get_by_role("button", name="Add a condition").click()
    page.locator("#condition-1-type").select_option("last_activity")
    page.locator("#condition-1-field").select_option("last_reply_at")
    page.locator("#condition-1-operator").select_option("within_days")
    page.locator("#condition-1-value").fill("7")
    _save(page)
    assert _step(world, sid, 1)["conditions"][1] == {
        "type": "last_activity", "operator": "within_days", "value": "7",
        "field": "last_reply_at"}


def test_a_variant_is_a_content_experiment_with_its_own_message_and_weight(
        console: Guarded, world: World) -> None:
    sequence, page = _builder(console, world, "Variants")
    sid, step = sequence["id"], sequence["steps"][1]
    page.locator("#step-1").click()
    page.get_by_role("button", name="Add variant").click()
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(["Message", "A", "B"])
    expect(_tab(page, "B")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Content").fill("Quick question, {{contact.name}}?")
    # Arrow keys move between the tabs; A starts as a copy of the step's message.
    _tab(page, "B").focus()
    page.keyboard.press("ArrowLeft")
    expect(_tab(page, "A")).to_be_focused()
    expect(_tab(page, "A")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Content")).to_have_value(step["message_template"]["content"])
    page.keyboard.press("End")
    expect(_tab(page, "B")).to_be_focused()
    page.keyboard.press("Home")
    expect(_tab(page, "Message")).to_be_focused()
    expect(_tab(page, "Message")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")  # wraps round to the last
    expect(_tab(page, "B")).to_have_attribute("aria-selected", "true")
    _tab(page, "A").click()
    console.check_screen()
    _save(page)
    [experiment] = world.get(f"{V1}/sequences/{sid}")["experiments"]
    assert (experiment["kind"], experiment["step_id"], experiment["metric"]) == (
        "content", step["id"], "reply")
    assert [(a["key"], a["weight"], a["message_template"]["content"])
            for a in experiment["arms"]] == [
        ("A", 50, step["message_template"]["content"]),
        ("B", 50, "Quick question, {{contact.name}}?")]
    # The step's own message is unchanged.
    assert _step(world, sid, 1)["message_template"] == step["message_template"]

    # A settings 422 about an arm opens its tab and shows beside the field; nothing saved.
    _tab(page, "B").click()
    page.locator("#variant-weight").fill("0")
    _tab(page, "Message").click()
    page.get_by_role("button", name="Save").click()
    expect(_tab(page, "B")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".field:has(#variant-weight) #variant-weight-error")).to_have_text(
        "Input should be greater than or equal to 1")
    page.locator("#variant-weight").fill("40")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#variant-weight-error")).to_have_text(
        "weights must sum to 100, got 90")
    expect(_tab(page, "B")).to_have_attribute("aria-selected", "true")  # an arm's tab stays
    assert world.get(f"{V1}/sequences/{sid}")["experiments"] == [experiment]
    _tab(page, "A").click()
    page.locator("#variant-weight").fill("60")
    _save(page)
    [saved] = world.get(f"{V1}/sequences/{sid}")["experiments"]
    assert [(a["key"], a["weight"]) for a in saved["arms"]] == [("A", 60), ("B", 40)]

    # A step save's 422 about the step's own message opens the Message tab.
    _tab(page, "Message").click()
    page.get_by_label("Content").fill("Hi {{ contact.name")
    _tab(page, "A").click()
    page.get_by_role("button", name="Save").click()
    expect(_tab(page, "Message")).to_have_attribute("aria-selected", "true")
    # The save's own words (the preview's would start "cannot be rendered").
    expect(page.locator("#step-content-error")).to_have_text(
        re.compile(r"^template syntax error on line 1: "))
    page.get_by_label("Content").fill(step["message_template"]["content"])

    # A third arm spreads the weights; removing arms down to one ends the test.
    page.get_by_role("button", name="Add variant").click()
    expect(tabs).to_have_text(["Message", "A", "B", "C"])
    expect(page.locator("#variant-weight-hint")).to_have_text("A 34 · B 33 · C 33: sum 100")
    page.get_by_role("button", name="Remove variant C").click()
    _tab(page, "B").click()
    page.get_by_role("button", name="Remove variant B").click()
    expect(tabs).to_have_count(0)
    _save(page)
    assert world.get(f"{V1}/sequences/{sid}")["experiments"] == []
    assert console.unexpected_errors(422) == []


def _contact(world: World, contact_id: str, **profile: str) -> None:
    """A contact the CRM told Dripline about (a `contact_updated` event), once it is known."""
    answer = world.api.post("/api/v1/events", json={
        "event_id": f"profile-{contact_id}", "type": "contact_updated", "tenant_id": "default",
        "contact_id": contact_id, "occurred_at": "2026-11-30T09:00:00Z", "data": profile})
    assert answer.status_code == 202, answer.text
    step = world.draft["steps"][0]

    def known() -> bool | None:
        preview = world.api.post(f"{V1}/sequences/{world.draft['id']}/steps/{step['id']}/preview",
                                 json={"contact_id": contact_id}).json()
        return True if preview["contact_known"] else None

    poll(known, f"contact {contact_id} known", timeout=30)


def test_the_live_preview_renders_the_unsaved_message_for_a_contact(
        console: Guarded, world: World) -> None:
    _contact(world, "ana-7", name="Ana")
    sequence, page = _builder(console, world, "Preview")
    sid = sequence["id"]
    before = world.get(f"{V1}/sequences/{sid}")
    shown = page.locator("[data-live-preview] .preview-content")
    expect(shown).to_contain_text("Hi , would you like a demo?")  # no contact yet
    page.get_by_label("Preview for contact id").fill("ana-7")
    page.locator("#step-content").fill("Hi {{contact.name}}, write to {{contact.email}}")
    expect(shown).to_have_text("email · text: Hi Ana, write to ")
    expect(page.locator("[data-missing]")).to_have_text("Missing for this contact: contact.email")
    expect(page.locator("[data-contact-known]")).to_have_attribute("data-contact-known", "true")
    # A custom field Ana lacks cannot be rendered: said beside the content; a fallback fixes it.
    page.locator("#step-content").fill("Hi {{contact.name}} of {{contact.company}}")
    error = page.locator(".field:has(#step-content) #step-content-error")
    expect(error).to_have_text(
        "cannot be rendered: UndefinedError: 'dict object' has no attribute 'company'")
    page.get_by_label("New key").fill("contact.company")
    page.get_by_label("New value").fill("your team")
    page.get_by_role("button", name="Add variable").click()
    expect(shown).to_have_text("email · text: Hi Ana of your team")
    expect(error).to_have_count(0)
    # A variant's tab previews that variant's message.
    page.get_by_role("button", name="Add variant").click()
    page.get_by_label("Content").fill("Quick question, {{contact.name}}?")
    expect(shown).to_have_text("email · text: Quick question, Ana?")
    expect(page.locator("[data-missing]")).to_have_text("Nothing missing.")
    console.check_screen(422)
    # Previewing wrote nothing.
    assert world.get(f"{V1}/sequences/{sid}") == before


def test_a_whatsapp_template_message_takes_its_template_id(
        console: Guarded, world: World) -> None:
    sequence, page = _builder(console, world, "Template message")
    sid = sequence["id"]
    page.locator("#step-2").click()
    expect(page.locator("#step-template-id")).to_have_count(0)  # a text message has none
    page.get_by_label("Type").select_option("template")
    page.get_by_label("WhatsApp template id").fill("")
    expect(page.locator(".field:has(#step-template-id) #step-template-id-error")).to_have_text(
        "is required for a template message")  # the preview's 422, before any save
    page.get_by_label("WhatsApp template id").fill("spring_offer")
    expect(page.locator("[data-live-preview] .note").last).to_have_text(
        "the provider renders WhatsApp template 'spring_offer' with these variables; its text "
        "is not shown")
    _save(page)
    template = _step(world, sid, 2)["message_template"]
    assert (template["type"], template["template_id"]) == ("template", "spring_offer")
    assert console.unexpected_errors(422) == []


def test_a_weights_422_opens_an_arm_tab_from_anywhere(console: Guarded, world: World) -> None:
    """`experiments[i].arms` (the weights' sum) names no one arm: the first arm's tab opens
    with the error beside its weight, from the Message tab and on coming back to the step."""
    sequence, page = _builder(console, world, "Weights")
    sid = sequence["id"]
    page.locator("#step-1").click()
    page.get_by_role("button", name="Add variant").click()
    page.locator("#variant-weight").fill("30")
    _tab(page, "Message").click()
    page.get_by_role("button", name="Save").click()
    expect(_tab(page, "A")).to_have_attribute("aria-selected", "true")
    error = page.locator(".field:has(#variant-weight) #variant-weight-error")
    expect(error).to_have_text("weights must sum to 100, got 80")
    assert page.locator("#variant-weight").get_attribute("aria-invalid") == "true"
    # Another step, then back: the error is still unfixed, so its tab opens again.
    page.locator("#step-0").click()
    expect(page.get_by_role("tab")).to_have_count(0)
    page.locator("#step-1").click()
    expect(_tab(page, "A")).to_have_attribute("aria-selected", "true")
    expect(error).to_have_text("weights must sum to 100, got 80")
    assert world.get(f"{V1}/sequences/{sid}")["experiments"] == []
    _tab(page, "B").click()
    page.locator("#variant-weight").fill("50")
    _save(page)
    [saved] = world.get(f"{V1}/sequences/{sid}")["experiments"]
    assert [a["weight"] for a in saved["arms"]] == [50, 50]
    assert console.unexpected_errors(422) == []


def test_removing_leaves_the_keyboard_focus_in_place(console: Guarded, world: World) -> None:
    """Keyboard only: after Remove, the focus is on a control of the same list, never lost
    to the page (nor on the next item's Remove, where a second Enter would remove it too)."""
    sequence, page = _builder(console, world, "Removals")
    sid = sequence["id"]
    page.locator("#step-1").click()
    add = page.get_by_role("button", name="Add a condition")
    add.click()
    expect(page.locator("#condition-0-type")).to_be_focused()  # the new one's first control
    add.click()
    expect(page.locator("#condition-1-type")).to_be_focused()
    page.locator("#condition-0-value").fill("first")
    page.locator("#condition-1-value").fill("second")
    page.get_by_role("button", name="Remove condition 1").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#condition-0-type")).to_be_focused()
    page.keyboard.press("Enter")  # on a select: removes nothing
    expect(page.locator("[data-condition]")).to_have_count(1)
    expect(page.locator("#condition-0-value")).to_have_value("second")
    page.get_by_role("button", name="Remove condition 1").focus()
    page.keyboard.press("Enter")
    expect(add).to_be_focused()

    # A variable removed: the focus goes to the new key, ready for another.
    page.get_by_label("New key").fill("offer")
    page.get_by_label("New value").fill("20% off")
    page.get_by_role("button", name="Add variable").click()
    page.get_by_role("button", name="Remove variable 1").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("New key")).to_be_focused()
    # A key that is a name of every JavaScript object is a key like any other.
    page.keyboard.type("constructor")
    page.keyboard.press("Tab")
    page.keyboard.type("built")
    expect(page.locator("#step-variables-new-key-error")).to_have_count(0)
    page.keyboard.press("Enter")  # in the new value: adds the pair, as Add variable does
    expect(page.get_by_role("button", name="Remove variable 1")).to_be_visible()
    expect(page.get_by_label("New key")).to_have_value("")

    # A variant removed: the focus goes to the open tab; the last removal ends the test and
    # the focus goes to Add variant.
    page.get_by_role("button", name="Add variant").click()
    page.get_by_role("button", name="Add variant").click()
    page.get_by_role("button", name="Remove variant C").focus()
    page.keyboard.press("Enter")
    expect(_tab(page, "B")).to_be_focused()
    expect(_tab(page, "B")).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Remove variant B (ends the test)").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_role("button", name="Add variant")).to_be_focused()
    page.get_by_role("button", name="Add a condition").click()
    page.locator("#condition-0-value").fill("vip")
    _save(page)
    step = _step(world, sid, 1)
    assert step["message_template"]["variables"] == {"constructor": "built"}
    assert step["conditions"] == [
        {"type": "tag", "operator": "has", "value": "vip", "field": None}]
    assert world.get(f"{V1}/sequences/{sid}")["experiments"] == []
    console.check_screen()


def test_a_tab_never_shows_the_preview_of_another_message(
        console: Guarded, world: World) -> None:
    """While a tab's (or a step's) own preview is on its way, what the previous one answered
    is not said about it: neither its 422 beside the content nor its rendered text."""
    _, page = _builder(console, world, "Stale preview")
    page.locator("#step-1").click()
    page.get_by_role("button", name="Add variant").click()
    page.get_by_label("Content").fill("Hi {{ contact.name")
    error = page.locator("#step-content-error")
    expect(error).to_have_text(re.compile(r"^cannot be rendered: template syntax error"))
    held: list[Route] = []
    hold = [True]

    def gate(route: Route) -> None:  # the answers wait while `hold`
        if hold[0]:
            held.append(route)
        else:
            route.fallback()

    page.route("**/preview", gate)
    _tab(page, "A").click()
    page.get_by_label("Content").wait_for()
    expect(page.locator("#step-content")).to_have_value("Here is how we helped {{contact.name}}.")
    expect(error).to_have_count(0)
    page.locator("#step-2").click()
    expect(page.locator("#step-content")).to_have_value("Last chance: 20% off your first month.")
    shown = page.locator("[data-live-preview] .preview-content")
    expect(shown).to_have_count(0)
    for _ in range(200):  # Playwright calls the route handler only while it runs
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the preview of step 3 was never asked"
    hold[0] = False
    for route in held:
        route.fallback()  # on to the context's own handler, which lets it through
    expect(shown).to_have_text("email · text: Last chance: 20% off your first month.")
    assert console.unexpected_errors(422) == []


def test_keep_mine_keeps_the_variants_someone_else_saved_on_another_step(
        browser: Browser, console: Guarded, world: World) -> None:
    """Two people add variants to two steps of one draft: the second save meets the 412,
    "Keep mine" saves both experiments (one per step), and the first person's stays as
    they saved it."""
    sequence, first = _builder(console, world, "Two editors")
    sid = sequence["id"]
    other = Guarded.open(browser, world.base, KEY)
    try:
        second = other.goto(f"/console/sequences/{sid}", ".step-card")
        first.locator("#step-1").click()
        first.get_by_role("button", name="Add variant").click()
        first.get_by_label("Content").fill("First's B")
        _save(first)
        second.locator("#step-2").click()
        second.get_by_role("button", name="Add variant").click()
        second.get_by_label("Content").fill("Second's B")
        second.get_by_role("button", name="Save").click()
        second.get_by_role("button", name="Keep mine").click()
        second.get_by_text("Unsaved changes").wait_for(state="detached")
        steps = {s["order"]: s for s in sequence["steps"]}
        saved = {x["step_id"]: [a["message_template"]["content"] for a in x["arms"]]
                 for x in world.get(f"{V1}/sequences/{sid}")["experiments"]}
        assert saved == {
            steps[1]["id"]: [steps[1]["message_template"]["content"], "First's B"],
            steps[2]["id"]: [steps[2]["message_template"]["content"], "Second's B"]}
        assert other.unexpected_errors(412) == []
    finally:
        other.close()

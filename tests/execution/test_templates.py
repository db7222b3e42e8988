"""The template sandbox: internals, huge outputs and unknown variables are refused when a
step is saved, naming the field; what can only fail when rendering is recorded at send time
as a failed send and an exit with reason ``error`` — never an exception, no code executed."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from domain.steps import Step
from domain.templates import MAX_OUTPUT, TemplateRenderError, _compiled, _substitutions, render
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    enrollment,
    events_of,
    requests,
    step,
)

REFUSED_WHEN_SAVED = {
    "class of the contact": ("{{ contact.__class__ }}", "__class__"),
    "mro of a string": ("{{ ''.__class__.__mro__ }}", "__"),
    "subclasses": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__"),
    "dunder by key": ("{{ contact['__init__'] }}", "__init__"),
    "cycler global": ("{{ cycler.__init__.__globals__ }}", "cycler"),
    "range global": ("{% for i in range(10000000) %}x{% endfor %}", "range"),
    "lipsum global": ("{{ lipsum(n=100000) }}", "lipsum"),
    "namespace global": ("{% set ns = namespace() %}", "namespace"),
    "unknown variable": ("Hi {{ first_name }}", "first_name"),
    "loops three deep": ("{% for a in contact.tags %}{% for b in contact.tags %}"
                         "{% for c in contact.tags %}x{% endfor %}{% endfor %}{% endfor %}",
                         "nest"),
    "syntax": ("Hi {{ contact.name ", "syntax"),
    "too long": ("x" * 10_001, "10000"),
    "set block": ("{% set x = contact.name %}{{ x }}", "assign"),
    "macro block": ("{% macro m() %}x{% endmacro %}{{ m() }}", "macro"),
    "padding filter": ("{{ contact.name | center(4000000) }}", "center"),
    "replace filter": ("{{ contact.name | replace('a', 'bbbb') }}", "replace"),
}


@pytest.mark.parametrize("case", list(REFUSED_WHEN_SAVED))
def test_refused_when_the_sequence_is_created(app: DriplineApp, case: str) -> None:
    source, why = REFUSED_WHEN_SAVED[case]
    with pytest.raises(InvalidInputError) as refused:
        app.create_sequence(TENANT, {"name": "s", "steps": [step(0, "fine"), step(1, source)]})
    assert refused.value.field == "steps[1].message_template.content"
    assert why in refused.value.reason


def test_refused_in_a_static_variable_and_when_a_step_is_added(app: DriplineApp) -> None:
    bad = {"type": "text", "content": "{{ code }}", "variables": {"code": "{{ x.__class__ }}"}}
    with pytest.raises(InvalidInputError) as refused:
        app.create_sequence(TENANT, {"name": "s", "steps": [step(0, message_template=bad)]})
    assert refused.value.field == "steps[0].message_template.variables.code"
    draft = app.create_sequence(TENANT, {"name": "s"})
    with pytest.raises(InvalidInputError) as also:
        app.add_step(TENANT, draft.id, step(0, "{{ contact.__dict__ }}"))
    assert also.value.field == "message_template.content"


def test_the_documented_variables_are_accepted_and_rendered(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    content = ("{{ contact.name }} <{{ contact.email }}> {{ contact.phone }} "
               "{{ contact.plan }}/{{ contact.custom_fields.plan }} "
               "{{ contact.tags | join(',') }} {{ offer }} {{ contact.name | upper }}")
    sequence_id = active_sequence(app, [step(0, message_template={
        "type": "text", "content": content, "variables": {"offer": "20% off"}})])
    crm(app, "contact_updated", "c-1", name="Ana", email="ana@example.com", phone="+49 1",
        custom_fields={"plan": "pro"})
    crm(app, "tag_added", "c-1", tag_id="t-1", tag_name="vip")
    e = app.enroll(TENANT, sequence_id, "c-1")
    app.execute_due([e.id])
    assert [r["content"] for r in requests(app, e.id)] == [
        "Ana <ana@example.com> +49 1 pro/pro vip 20% off ANA"]


# --- what only rendering can find: a failed send, never an exception ----------------------

FAILING_WHEN_RENDERED = {  # template, what the recorded error says
    "huge repetition": ("{{ 'a' * 10000000 }}", "sandbox"),
    "huge repetition of a fact": ("{{ contact.name * 100000000 }}", "sandbox"),
    "huge power": ("{{ (9 ** 64) ** 64 }}", "sandbox"),
    "huge product": ("{{ " + " * ".join(["(7 ** 64)"] * 30) + " }}", "sandbox"),
    "loop output": ("{% for a in contact.tags %}{% for b in contact.tags %}"
                    "{{ contact.bio }}{% endfor %}{% endfor %}", "output longer"),
    "fact the CRM never sent": ("Hi {{ contact.company }}", "company"),
    "division by zero": ("{{ contact.score / 0 }}", "ZeroDivisionError"),
}


def _enrolled_with(app: DriplineApp, source: str) -> UUID:
    sequence_id = active_sequence(app, [step(0, source, amount=1), step(1, "next", amount=1)])
    crm(app, "contact_updated", "c-1", name="Ana", custom_fields={"bio": "b" * 300,
                                                                   "score": 3})
    for n in range(20):
        crm(app, "tag_added", "c-1", tag_name=f"tag-{n}")
    return app.enroll(TENANT, sequence_id, "c-1").id


def _assert_failed_send_and_exit(app: DriplineApp, clock: ManualClock,
                                 enrollment_id: UUID) -> str:
    clock.advance(timedelta(minutes=1))  # the step is due
    [outcome] = app.execute_due([enrollment_id])  # never raises
    assert (outcome.result, outcome.message_id) == (
        "exited", ids.message_id(enrollment_id, 0, 1))
    assert requests(app, enrollment_id) == []
    [failure] = events_of(app, enrollment_id, Enrollment.SendFailed)
    assert (failure.step_order, failure.attempt, failure.permanent, failure.retry_at) == (
        0, 1, True, None)
    done = enrollment(app, enrollment_id)
    assert (done.status, done.exit_reason) == ("exited", "error")
    assert app.execute_due([enrollment_id]) == []
    return str(failure.error)


@pytest.mark.parametrize("case", list(FAILING_WHEN_RENDERED))
def test_a_render_failure_is_a_failed_send_and_an_exit(app: DriplineApp, clock: ManualClock,
                                                       case: str) -> None:
    source, why = FAILING_WHEN_RENDERED[case]
    enrollment_id = _enrolled_with(app, source)
    assert why in _assert_failed_send_and_exit(app, clock, enrollment_id)


def test_a_stored_step_from_before_the_checks_still_cannot_reach_internals(
        app: DriplineApp, clock: ManualClock) -> None:
    """A step saved before authoring refused internals loads as stored (events are never
    re-validated); the sandbox still refuses it when rendering."""
    sequence = app.create_sequence(TENANT, {"name": "old"})
    old: dict[str, Any] = {
        "id": str(uuid4()), "order": 0, "name": "old", "delay_amount": 1,
        "delay_unit": "minutes", "conditions": [], "on_condition_fail": "exit",
        "message_template": {
            "type": "text", "content": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "template_id": None, "variables": {}, "media_url": None, "channel": "whatsapp"}}
    sequence.add_step(Step.from_stored(old), clock())
    app.save(sequence)
    app.activate_sequence(TENANT, sequence.id)
    e = app.enroll(TENANT, sequence.id, "c-1")
    error = _assert_failed_send_and_exit(app, clock, e.id)
    assert "internal to Python" in error
    assert "<class" not in error


@pytest.mark.parametrize("source", [
    "{{ 'a' * 10000000 }}", "{{ [1, 2] * 10000000 }}", "{{ contact.name.__class__ }}",
    "{{ contact.name.format.__globals__ }}", "{{ '{0.__class__}'.format(contact) }}",
    "{% for a in contact.tags %}{% for b in contact.tags %}{{ contact.name }}"
    "{% endfor %}{% endfor %}"])
def test_render_refuses_with_a_clear_error(source: str) -> None:
    context = {"contact": {"name": "n" * 100, "tags": [str(i) for i in range(100)]}}
    with pytest.raises(TemplateRenderError) as refused:
        render(source, context)
    assert "Traceback" not in str(refused.value)


def test_render_allows_output_up_to_the_limit() -> None:
    assert render("{{ 'a' * n }}", {"n": MAX_OUTPUT}) == "a" * MAX_OUTPUT
    with pytest.raises(TemplateRenderError):
        render("{{ 'a' * n }}{{ 'b' }}", {"n": MAX_OUTPUT})


# --- memory stays bounded: no single expression may build a huge value ----------------------

AMPLIFIERS = {
    "list of long strings repeated": "{{ ['a' * 20000] * 200 }}",
    "center filter": "{{ 'a' | center(4000000) }}",
    "percent formatting": "{{ '%4000000s' % 'a' }}",
    "replace filter": "{{ ('a' * 2000) | replace('a', 'b' * 2000) }}",
    "nested list references": "{% set a = ['aaaaaaaaaa'] %}"
                              + "{% set a = [a,a,a,a,a,a,a,a,a,a] %}" * 5 + "{{ a }}",
    "join of repeated strings": "{{ (['a' * 2000] * 2000) | join }}",
}


@pytest.mark.parametrize("case", list(AMPLIFIERS))
def test_render_never_builds_much_more_than_the_output_limit(case: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TemplateRenderError):
            render(AMPLIFIERS[case], {"contact": {"name": "x"}})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # bytes; the limit is 20,000 characters


def test_render_stops_a_template_that_runs_too_long() -> None:
    # Each chunk sorts a long list: little output, much CPU; the time limit stops it.
    context = {"big": [str(i) for i in range(20_000)], "rows": list(range(2_000))}
    with pytest.raises(TemplateRenderError, match="took longer"):
        render("{% for r in rows %}{{ big | sort | first }}{% endfor %}", context)


# --- plain substitution skips the engine; it must render exactly what Jinja renders ---------

_NAMES = ["contact", "name", "tags", "items", "keys", "x", "_x", "custom_fields", "first"]
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), inner,
                                                               max_size=4),
    max_leaves=10)
_paths = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map(".".join)
_pieces = st.lists(st.one_of(st.text(alphabet="ab \n{}%#-", max_size=5),
                             _paths.map(lambda path: "{{ " + path + " }}")), max_size=5)


def _by_jinja(source: str, context: dict[str, object]) -> str:
    try:
        return "".join(_compiled(source).generate(**context))
    except Exception as error:  # the kind of failure is what is compared
        return f"failed: {type(error).__name__}"


def _by_render(source: str, context: dict[str, object]) -> str:
    try:
        return render(source, context)
    except TemplateRenderError:
        return "refused"


@settings(max_examples=400, deadline=None)
@example("{{ contact.items }}", {"contact": {"items": 1}})  # the method, to Jinja
@example("{{ x.name }}", {"x": [1]})
@example("{{ x }}!", {"x": None})
@example("{{ contact.name }}", {"contact": {"name": "a" * MAX_OUTPUT}})
@given(_pieces.map("".join), st.dictionaries(st.sampled_from(_NAMES), _values, max_size=4))
def test_plain_substitution_renders_what_jinja_renders(
        source: str, context: dict[str, object]) -> None:
    expected = _by_jinja(source, context)
    got = _by_render(source, context)
    if expected.startswith("failed: "):
        assert got == "refused" or (got == source and "{" not in source)
    else:
        assert got == expected


def test_plain_substitution_is_recognised() -> None:
    assert _substitutions("Hi {{ contact.name }}, {{ code }}!\n") == (
        "Hi ", ("contact", "name"), ", ", ("code",), "!\n")
    assert _substitutions("{{ contact.items }}") is None  # the dict's method to Jinja
    assert _substitutions("{{ contact.name | upper }}") is None

"""A step's message: its template rendered for the contact (what an executed step records),
and the full message request of DESIGN 3.2, rebuilt from that record and the enrollment's
identity wherever it is shown or published."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain import ids
from domain.steps import Step
from domain.templates import render


class ContactFacts(Protocol):
    """What a message may say of its contact: a ``Contact``, or one described for a
    preview (``domain.app_templates.InlineContact``)."""

    @property
    def contact_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def lists(self) -> Mapping[str, str]: ...
    @property
    def custom_fields(self) -> Mapping[str, Any]: ...


def template_context(contact: ContactFacts | None, variables: dict[str, str]) -> dict[str, Any]:
    """``contact`` for ``{{contact.name}}``-style variables, and the step's static variables
    by name. A dotted static variable such as ``contact.name`` is the fallback used when the
    CRM has not told us that fact."""
    # The standard facts always exist (empty when the CRM has not sent them), so a contact
    # enrolled by hand before any CRM event renders like a known contact without a name.
    facts: dict[str, Any] = {"name": "", "email": "", "phone": "", "timezone": "", "tags": [],
                             "lists": [], "custom_fields": {}}
    if contact is not None:
        facts.update({key: value for key, value in contact.custom_fields.items()
                      if isinstance(key, str)})
        facts.update(name=contact.name, email=contact.email, phone=contact.phone,
                     timezone=contact.timezone, tags=sorted(contact.tags.values()),
                     lists=sorted(contact.lists.values()),
                     custom_fields=dict(contact.custom_fields), contact_id=contact.contact_id)
    for key, value in variables.items():
        if key.startswith("contact.") and not facts.get(key[len("contact."):]):
            facts[key[len("contact."):]] = value
    plain = {key: value for key, value in variables.items() if "." not in key}
    return {**plain, "contact": facts}


def render_message(step: Step, contact: ContactFacts | None) -> dict[str, Any]:
    """The rendered message; raises TemplateRenderError if it cannot be rendered."""
    template = step.message_template
    context = template_context(contact, template.variables) if (
        "{" in template.content or template.variables) else {}
    return {
        "channel": template.channel,
        "type": template.type,
        "content": render(template.content, context),
        "template_id": template.template_id,
        "variables": {key: render(value, context) for key, value in template.variables.items()
                      if "." not in key},
        "media_url": template.media_url,
    }


def message_request(*, enrollment_id: UUID, tenant_id: str, contact_id: str,
                    sequence_id: UUID, event: Any) -> dict[str, Any]:
    """DESIGN 3.2's message request from a recorded step (``StepExecuted``, or the full
    request an older ``MessageRequested`` carried)."""
    request = getattr(event, "request", None)
    if isinstance(request, Mapping):
        return dict(request)
    at: datetime = event.at
    return {
        "message_id": ids.message_id(enrollment_id, event.step_order, event.attempt),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "sequence_id": str(sequence_id),
        "enrollment_id": str(enrollment_id),
        "step_id": event.step_id,
        "step_order": event.step_order,
        "attempt": event.attempt,
        "channel": event.channel,
        "type": event.type,
        "content": event.content,
        "template_id": event.template_id,
        "variables": dict(event.variables),
        "media_url": event.media_url,
        "due_at": event.due_at.isoformat(),
        "created_at": at.isoformat(),
        "variant": getattr(event, "variant", None),  # the A/B arm whose content this is
    }

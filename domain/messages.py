"""Building a step's message request: rendered content and the fields of DESIGN 3.2."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.steps import Step
from domain.templates import render


def template_context(contact: Contact | None, variables: dict[str, str]) -> dict[str, Any]:
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


def build_request(enrollment: Enrollment, step: Step, attempt: int, message_id: str,
                  contact: Contact | None, due_at: datetime, now: datetime) -> dict[str, Any]:
    """The message request; raises TemplateRenderError if the content cannot be rendered."""
    template = step.message_template
    context = template_context(contact, template.variables)
    return {
        "message_id": message_id,
        "tenant_id": enrollment.tenant_id,
        "contact_id": enrollment.contact_id,
        "sequence_id": str(enrollment.sequence_id),
        "enrollment_id": str(enrollment.id),
        "step_id": str(step.id),
        "step_order": step.order,
        "attempt": attempt,
        "channel": template.channel,
        "type": template.type,
        "content": render(template.content, context),
        "template_id": template.template_id,
        "variables": {key: render(value, context) for key, value in template.variables.items()
                      if "." not in key},
        "media_url": template.media_url,
        "due_at": due_at.isoformat(),
        "created_at": now.isoformat(),
    }

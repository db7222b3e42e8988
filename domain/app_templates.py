"""Template commands (CAPABILITIES §5): a tenant's templates (create, replace fields, delete,
clone), sequences and steps made from a template (copies, with provenance), and previews that
render exactly what would be sent, writing nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID, uuid4

from domain import ids
from domain import validation as v
from domain.app_base import Core
from domain.contact import Contact
from domain.errors import (
    BuiltinTemplateError,
    InvalidInputError,
    StepNotFoundError,
    TemplateNotFoundError,
)
from domain.messages import render_message, template_context
from domain.sequence import DripSequence
from domain.step_template import StepTemplate
from domain.steps import MessageTemplate, Step
from domain.template_library import (
    BUILTIN_PREFIX,
    BUILTINS,
    FIELDS,
    described,
    provenance,
    step_from_template,
    steps_of,
    validate,
)
from domain.templates import TemplateRenderError
from domain.triggers import ReEnrollment, validate_trigger
from domain.unit_of_work import UnitOfWork

_CONTACT_REF = re.compile(r"\bcontact\.([A-Za-z_][A-Za-z0-9_]*)")
_INLINE_FIELDS = {"name", "email", "phone", "timezone", "custom_fields", "tags"}


@dataclass
class InlineContact:
    """A contact given in a preview request: the facts a message can use, nothing stored."""

    name: str = ""
    email: str = ""
    phone: str = ""
    timezone: str = ""
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lists: dict[str, str] = field(default_factory=dict)
    contact_id: str = ""

    @classmethod
    def from_dict(cls, data: object) -> InlineContact:
        d = v.require_mapping(data, "contact")
        v.reject_unknown(d, _INLINE_FIELDS, "contact")
        def text(key: str) -> str:
            return v.text(d.get(key, ""), f"contact.{key}", max_len=500, required=False)
        custom = v.require_mapping(d.get("custom_fields") or {}, "contact.custom_fields")
        raw_tags = d.get("tags") or []
        if not isinstance(raw_tags, list) or len(raw_tags) > 200:
            raise InvalidInputError("contact.tags", "must be a list of at most 200 tag names")
        tags = [v.text(t, f"contact.tags[{i}]", max_len=200) for i, t in enumerate(raw_tags)]
        return cls(name=text("name"), email=text("email"), phone=text("phone"),
                   timezone=text("timezone"), custom_fields=dict(custom),
                   tags={t: t for t in tags})


def preview(step: Step, contact: Contact | InlineContact | None, *, contact_known: bool,
            variables: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What ``step`` would send to ``contact`` now (the send-time rendering), the
    ``contact.*`` variables the contact lacks (a fallback, or nothing, is used instead), and
    warnings about what a preview cannot show."""
    template = step.message_template
    if variables:
        template = type(template)(**{**template.to_dict(),
                                     "variables": {**template.variables, **variables}})
        step = Step(id=step.id, order=step.order, name=step.name, delay_amount=0,
                    delay_unit="minutes", message_template=template)
    try:
        message = render_message(step, contact)
    except TemplateRenderError as error:
        raise InvalidInputError("message_template.content",
                                f"cannot be rendered: {error}") from None
    facts = template_context(contact, {})["contact"]  # the facts the rendering saw
    sources = [template.content, *template.variables.values()]
    referenced = dict.fromkeys(name for source in sources
                               for name in _CONTACT_REF.findall(source))
    missing = [f"contact.{name}" for name in referenced if not facts.get(name)]
    warnings = []
    if not contact_known:
        warnings.append("no known contact: fallbacks are shown where the template has them")
    if template.type == "template":
        warnings.append(f"the provider renders WhatsApp template {template.template_id!r} "
                        "with these variables; its text is not shown")
    if template.type == "media":
        warnings.append("the media itself is not fetched")
    return {"rendered": {"content": message["content"], "variables": message["variables"],
                         "media_url": message["media_url"], "type": message["type"],
                         "channel": message["channel"]},
            "missing": missing, "contact_known": contact_known, "warnings": warnings}


class TemplateCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    # --- reading ------------------------------------------------------------------------------

    def get_template(self, tenant_id: str, template_id: str) -> dict[str, Any]:
        builtin = BUILTINS.get(template_id)
        if builtin is not None:
            return builtin
        uow = self.core.reader()
        try:
            return _view(self._own(uow, tenant_id, template_id))
        finally:
            uow.discard()

    def _own(self, uow: UnitOfWork, tenant_id: str, template_id: str) -> StepTemplate:
        if template_id.startswith(BUILTIN_PREFIX):
            raise TemplateNotFoundError(f"template {template_id} not found")
        try:
            key = UUID(template_id)
        except ValueError:
            raise TemplateNotFoundError(f"template {template_id} not found") from None
        return self.core.load_one(uow, StepTemplate, key, tenant_id, TemplateNotFoundError,
                                  "template")

    # --- a tenant's templates -----------------------------------------------------------------

    def create_template(self, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        tenant = v.tenant_id(tenant_id)
        kind = v.choice(data.get("kind"), "kind", ("step", "sequence"))
        body = validate(kind, {k: val for k, val in data.items() if k != "kind"})

        def decide(uow: UnitOfWork) -> StepTemplate:
            template = StepTemplate.start(id=uuid4(), tenant_id=tenant, kind=kind, body=body,
                                          at=self.core.clock())
            uow.add(template)
            return template

        return _view(self.core.decide(decide)[0])

    def update_template(self, tenant_id: str, template_id: str, data: Mapping[str, Any],
                        expected_version: int | None) -> dict[str, Any]:
        """Replace the fields given; the body is validated whole again."""
        self._not_builtin(template_id, "changed")

        def decide(uow: UnitOfWork) -> StepTemplate:
            template = self._own(uow, tenant_id, template_id)
            self.core.check_version(template, expected_version)
            if "kind" in data and data["kind"] != template.kind:
                raise InvalidInputError("kind", "a template's kind cannot change")
            changes = {k: val for k, val in data.items() if k != "kind"}
            v.reject_unknown(changes, FIELDS[template.kind], "")
            template.replace_body(validate(template.kind, {**template.body, **changes}),
                                  self.core.clock())
            return template

        return _view(self.core.decide(decide)[0])

    def delete_template(self, tenant_id: str, template_id: str,
                        expected_version: int | None) -> None:
        self._not_builtin(template_id, "deleted")

        def decide(uow: UnitOfWork) -> None:
            template = self._own(uow, tenant_id, template_id)
            self.core.check_version(template, expected_version)
            template.delete(self.core.clock())

        self.core.decide(decide)

    def clone_template(self, tenant_id: str, template_id: str,
                       name: str | None = None) -> dict[str, Any]:
        source = self.get_template(tenant_id, template_id)
        body = dict(source["body"])
        if name is not None:
            body["name"] = name
        return self._clone(tenant_id, source, body)

    def _clone(self, tenant_id: str, source: Mapping[str, Any],
               body: dict[str, Any]) -> dict[str, Any]:
        checked = validate(source["kind"], body)
        tenant = v.tenant_id(tenant_id)

        def decide(uow: UnitOfWork) -> StepTemplate:
            template = StepTemplate.start(id=uuid4(), tenant_id=tenant, kind=source["kind"],
                                          body=checked, at=self.core.clock(),
                                          cloned_from=str(source["id"]))
            uow.add(template)
            return template

        return _view(self.core.decide(decide)[0])

    @staticmethod
    def _not_builtin(template_id: str, what: str) -> None:
        if template_id in BUILTINS:
            raise BuiltinTemplateError(
                f"{template_id} is a built-in template and cannot be {what}: clone it "
                "(POST /automation/templates/{id}/clone) and change the copy")

    # --- using a template ---------------------------------------------------------------------

    def step_from(self, tenant_id: str, data: Mapping[str, Any]) -> Step:
        """A new step copied from the step template ``data['template_id']`` at
        ``data['order']``, with ``data['overrides']``."""
        v.reject_unknown(data, {"template_id", "order", "overrides"}, "")
        template_id = v.text(data.get("template_id"), "template_id", max_len=200)
        if "order" not in data:
            raise InvalidInputError("order", "is required (0 for the first step)")
        order = v.integer(data["order"], "order", minimum=0, maximum=10_000)
        overrides = v.require_mapping(data.get("overrides") or {}, "overrides")
        template = self._usable(tenant_id, template_id)
        return step_from_template(uuid4(), template, order, overrides)

    def listed_step_from(self, tenant_id: str, data: Mapping[str, Any], where: str) -> Step:
        """``step_from`` for an item of a list, its errors named under ``where``
        (``steps[2].template_id``)."""
        try:
            return self.step_from(tenant_id, data)
        except InvalidInputError as error:
            raise InvalidInputError(f"{where}.{error.field.lstrip('.')}", error.reason
                                    ) from None

    def sequence_from(self, tenant_id: str, data: Mapping[str, Any]) -> DripSequence:
        """A draft sequence copied from the sequence template ``data['template_id']``: its
        trigger (unless given) and its steps, each remembering the template."""
        v.reject_unknown(data, {"template_id", "name", "trigger_type", "trigger_data"}, "")
        tenant = v.tenant_id(tenant_id)
        template_id = v.text(data.get("template_id"), "template_id", max_len=200)
        name = v.text(data.get("name"), "name", max_len=200).strip()
        template = self._usable(tenant_id, template_id)
        if template["kind"] != "sequence":
            raise InvalidInputError("template_id", f"{template_id} is a step template; a "
                                                   "sequence is made from a sequence template")
        body = template["body"]
        if "trigger_type" in data or "trigger_data" in data:
            kind = data.get("trigger_type", body["trigger_type"])
            raw = data.get("trigger_data", body["trigger_data"]
                           if kind == body["trigger_type"] else {})
            trigger_type, trigger_data = validate_trigger(kind, raw)
        else:
            trigger_type, trigger_data = body["trigger_type"], dict(body["trigger_data"])
        steps = steps_of(template, [uuid4() for _ in body["steps"]])

        def decide(uow: UnitOfWork) -> DripSequence:
            now = self.core.clock()
            sequence = DripSequence.start(
                id=uuid4(), tenant_id=tenant, name=name,
                description=str(body.get("description", "")), trigger_type=trigger_type,
                trigger_data=trigger_data, exit_on_reply=True,
                reenrollment=ReEnrollment().to_dict(), at=now, cloned_from=None)
            for step in steps:
                sequence.add_step(step, now)
            uow.add(sequence)
            return sequence

        return self.core.decide(decide)[0]

    def _usable(self, tenant_id: str, template_id: str) -> dict[str, Any]:
        try:
            return self.get_template(tenant_id, template_id)
        except TemplateNotFoundError:
            raise InvalidInputError("template_id", f"no template {template_id}") from None

    # --- previews -----------------------------------------------------------------------------

    def preview_template(self, tenant_id: str, template_id: str,
                         data: Mapping[str, Any]) -> dict[str, Any]:
        template = self.get_template(tenant_id, template_id)
        contact, known, variables = self._preview_contact(tenant_id, data, {"variables"})
        body = template["body"]
        if template["kind"] == "step":
            return preview(step_from_template(uuid4(), template, 0), contact,
                           contact_known=known, variables=variables)
        steps = [preview(step, contact, contact_known=known, variables=variables)
                 for step in steps_of(template, [uuid4() for _ in body["steps"]])]
        return {**steps[0], "steps": [{"order": item["order"], "name": item["name"], **shown}
                                      for item, shown in zip(body["steps"], steps,
                                                             strict=True)]}

    def preview_step(self, tenant_id: str, sequence_id: UUID, step_id: UUID,
                     data: Mapping[str, Any]) -> dict[str, Any]:
        contact, known, variables = self._preview_contact(tenant_id, data,
                                                          {"message_template"})
        edited = (MessageTemplate.from_dict(data["message_template"])
                  if data.get("message_template") is not None else None)
        sequence = self.core.read_sequence(tenant_id, sequence_id)
        # The draft revision's step first (what is being edited), then the newest others.
        for number in sorted(sequence.revisions, reverse=True,
                             key=lambda n: (n == sequence.draft_revision, n)):
            step = sequence.revisions[number].steps_by_id.get(step_id)
            if step is not None:
                if edited is not None:  # an unsaved edit, rendered as it would be sent
                    step = replace(step, message_template=edited)
                return preview(step, contact, contact_known=known, variables=variables)
        raise StepNotFoundError(f"step {step_id} not found in sequence {sequence_id}")

    def _preview_contact(self, tenant_id: str, data: Mapping[str, Any], extra: set[str],
                         ) -> tuple[Contact | InlineContact | None, bool, dict[str, str]]:
        v.reject_unknown(data, {"contact_id", "contact"} | extra, "")
        if "contact_id" in data and "contact" in data:
            raise InvalidInputError("contact", "give contact_id or contact, not both")
        variables = v.string_map(data.get("variables"), "variables", max_items=50,
                                 max_len=1000)
        if data.get("contact") is not None:
            return InlineContact.from_dict(data["contact"]), True, variables
        if data.get("contact_id") is None:
            return None, False, variables
        contact_id = v.contact_id(data["contact_id"])
        uow = self.core.reader()
        try:
            found = uow.get(ids.contact_id(v.tenant_id(tenant_id), contact_id), Contact)
        finally:
            uow.discard()
        if found is None or found.deleted or found.tenant_id != tenant_id:
            return None, False, variables
        return found, True, variables


def _view(template: StepTemplate) -> dict[str, Any]:
    return described(str(template.id), template.kind, template.body, source="tenant",
                     version=template.version, created_at=template.created_at,
                     updated_at=template.updated_at, cloned_from=template.cloned_from)


__all__ = ["InlineContact", "TemplateCommands", "preview", "provenance"]

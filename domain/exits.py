"""When a contact leaves a sequence: CRM time compared with CRM time.

An enrollment entered at ``entered_at``: the trigger's ``occurred_at`` for an enrollment made
by a CRM event, the enrollment's own time otherwise. An exit fact (a reply, where the
sequence exits on reply and it was not an automatic answer; an unsubscribe from any channel;
a deletion) ends it when it *happened* at or after that moment, whenever it *arrived*: a
reply sent at 10:05 to a lead tagged at 10:00 ends the enrollment even if both reach Dripline
at 10:10, in either order. CRM timestamps often carry whole seconds only, so a fact in the
same second as the entry counts as after it.
"""

from __future__ import annotations

from datetime import datetime

from domain.contact import ALL_CHANNELS, Contact
from domain.enrollment import Enrollment
from domain.sequence import Revision


def happened_since(crm_time: datetime, since: datetime) -> bool:
    return crm_time >= since.replace(microsecond=0)


def exit_reason(e: Enrollment, revision: Revision, contact: Contact | None) -> str | None:
    """The exit the contact's known facts call for, or None."""
    if contact is None:
        return None
    if contact.deleted:
        return "contact_deleted"
    # An unsubscribe from any channel after entry ends the enrollment; one from before it
    # only suppresses its channel (checked per step), unless it was from every channel.
    if ALL_CHANNELS in contact.unsubscribed or (
            contact.last_unsubscribed_at is not None
            and happened_since(contact.last_unsubscribed_at, e.entered_at)):
        return "contact_unsubscribed"
    if (revision.exit_on_reply and contact.last_reply_at is not None
            and happened_since(contact.last_reply_at, e.entered_at)):
        return "contact_replied"
    return None

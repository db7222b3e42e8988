"""Logging for every process: plain text for a terminal, or one JSON object per line
(``DRIPLINE_LOG_FORMAT=json``) for log collectors. Records carry ids (tenant, contact,
enrollment, message) as fields; nothing logs message content, emails or phone numbers."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Fields a record may carry through ``extra=``; anything else passed that way is dropped so
# that a careless call cannot put personal data into the logs.
ID_FIELDS = ("tenant_id", "contact_id", "enrollment_id", "sequence_id", "message_id",
             "event_id", "result", "count")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ID_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value) if not isinstance(value, int) else value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

"""One router per resource. Each router carries its full prefix, so a route's ``path`` is the
public template (the metrics label it by it)."""

from fastapi import Response

API = "/api/v1"


def etag(response: Response, version: int) -> None:
    """The version a client sends back in ``If-Match``."""
    response.headers["ETag"] = f'"{version}"'

"""A process that bulk-enrolls contacts, for the crash test to kill part-way:

    python -m tests.integration.bulk_worker DATABASE_URL SEQUENCE_ID COUNT
"""

from __future__ import annotations

import sys
from uuid import UUID

from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.integration.factories import TENANT


def contacts(count: int) -> list[str]:
    return [f"crash-{n:05d}" for n in range(count)]


def main(url: str, sequence_id: str, count: str) -> None:
    runtime = bootstrap(Settings(database_url=url))
    try:
        runtime.app.enroll_many(TENANT, UUID(sequence_id), contacts(int(count)))
    finally:
        runtime.close()


if __name__ == "__main__":
    main(*sys.argv[1:])

"""The Temporal workflow and activity of the drip comparison, in a module of their own so
that the workflow sandbox re-imports only this (and the activity's imports stay outside)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

STEPS = 3
TIMER = timedelta(milliseconds=1)  # a zero-second sleep makes no timer at all in the SDK


@activity.defn(name="send")
async def send(contact: int, order: int, due: float) -> float:
    from bench.peers.temporal_peer import write_send

    return await write_send(contact, order, due)


@workflow.defn(name="Drip")
class Drip:
    @workflow.run
    async def run(self, contact: int, due: float, steps: int = STEPS) -> None:
        for order in range(steps):
            await workflow.sleep(TIMER)
            due = await workflow.execute_activity(
                send, args=[contact, order, due], start_to_close_timeout=timedelta(seconds=60))

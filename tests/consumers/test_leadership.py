"""One relay publishes at a time: the others wait and take over when it stops."""

from __future__ import annotations

import asyncio

from consumers.leadership import leadership


async def test_a_second_copy_waits_until_the_leader_stops(postgres_url: str) -> None:
    leader_stop, follower_stop = asyncio.Event(), asyncio.Event()
    led = asyncio.Event()
    order: list[str] = []

    async def copy(name: str, stop: asyncio.Event) -> None:
        async with leadership(postgres_url, 4242, stop, poll_seconds=0.05) as leading:
            if leading:
                order.append(name)
                led.set()
                await stop.wait()

    first = asyncio.create_task(copy("first", leader_stop))
    await asyncio.wait_for(led.wait(), 10)
    second = asyncio.create_task(copy("second", follower_stop))
    await asyncio.sleep(0.3)  # several polls of the follower: it must not lead meanwhile
    assert order == ["first"]
    leader_stop.set()
    await first
    await asyncio.wait_for(_until(lambda: order == ["first", "second"]), 10)
    follower_stop.set()
    await second


async def test_a_copy_stopped_before_leading_reports_it(postgres_url: str) -> None:
    hold, stop = asyncio.Event(), asyncio.Event()
    holding = asyncio.Event()

    async def holder() -> None:
        async with leadership(postgres_url, 4243, hold, poll_seconds=0.05):
            holding.set()
            await hold.wait()

    task = asyncio.create_task(holder())
    await asyncio.wait_for(holding.wait(), 10)
    stop.set()
    async with leadership(postgres_url, 4243, stop, poll_seconds=0.05) as leading:
        assert leading is False
    hold.set()
    await task


async def test_sqlite_always_leads(sqlite_url: str) -> None:
    async with leadership(sqlite_url, 1, asyncio.Event()) as leading:
        assert leading is True


async def _until(condition: object) -> None:
    assert callable(condition)
    while not condition():
        await asyncio.sleep(0.02)

"""Embedding the client in a long-running asyncio app.

One client for the app's whole lifetime (one connection pool), shared by all
tasks; a queue of work; graceful shutdown on SIGINT/SIGTERM: stop taking new
work, finish what is in flight, then close the client.

    python examples/asyncio_bot.py                     # until Ctrl-C
    python examples/asyncio_bot.py --emulator --run-for 2
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal

from _shared import add_call_options, call_fields, idempotency_key, open_client, parser

from voice_async import AsyncVoiceClient, VoiceError


async def caller(
    client: AsyncVoiceClient, jobs: asyncio.Queue[str], name: str, fields: dict[str, str]
) -> None:
    """Place a call for each order id taken from the queue."""
    while True:
        order_id = await jobs.get()
        try:
            call = await client.make_call(
                **fields,
                metadata={"order_id": order_id},
                idempotency_key=idempotency_key(order_id, fields),
            )
            print(f"{name}: order {order_id} -> {call.session_id}")
        except VoiceError as exc:  # one failed job must not kill the bot
            print(f"{name}: order {order_id} failed: {exc}")
        finally:
            jobs.task_done()


async def producer(jobs: asyncio.Queue[str]) -> None:
    """Stands in for orders arriving from elsewhere (a webhook, a message bus)."""
    for n in itertools.count(1):
        await jobs.put(f"B-{n:04d}")
        await asyncio.sleep(0.05)


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--run-for", type=float, help="stop by itself after this many seconds")
    p.add_argument("--workers", type=int, default=4)
    add_call_options(p)
    args = p.parse_args()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.run_for:
        loop.call_later(args.run_for, stop.set)

    jobs: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
    async with open_client(args) as client:
        fields = call_fields(args, client)  # refuses sample numbers on a remote service
        workers = [
            asyncio.create_task(caller(client, jobs, f"worker-{i}", fields))
            for i in range(args.workers)
        ]
        feeding = asyncio.create_task(producer(jobs))
        await stop.wait()
        print("shutting down: no new work; finishing calls in flight")
        feeding.cancel()
        await jobs.join()  # every queued order is handled before we exit
        for task in (*workers, feeding):
            task.cancel()
        for task in (*workers, feeding):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    print("client closed; bye")


if __name__ == "__main__":
    asyncio.run(main())

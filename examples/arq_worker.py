"""An arq worker that runs voice_async's campaign shards and export windows,
next to a job of your own.

Each worker process opens one AsyncVoiceClient at startup (configured from
the environment) and shares it between its jobs as ``ctx["voice_client"]``.

    export VOICE_ASYNC_REDIS_URL=redis://localhost:6379/0
    export STATESET_VOICE_API_KEY=sk_live_...
    python examples/arq_worker.py          # start as many as you like, anywhere

Without jobs of your own, arq's CLI does the same:
``arq voice_async.contrib.arq.WorkerSettings``.  Enqueue work with
``examples/arq_enqueue.py``.
"""

from __future__ import annotations

import argparse
from typing import Any

from arq.worker import run_worker

from voice_async import AsyncVoiceClient
from voice_async.contrib.arq import worker_settings


async def count_sessions(ctx: dict[str, Any], agent_key: str) -> int:
    """Your own job, using the worker's shared client."""
    client: AsyncVoiceClient = ctx["voice_client"]
    page = await client.sessions.list(limit=1, agent_key=agent_key)
    return page.total or 0


if __name__ == "__main__":
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    # A dict, not a WorkerSettings subclass: arq reads a class's own __dict__ only.
    run_worker(worker_settings([count_sessions]))  # type: ignore[arg-type]

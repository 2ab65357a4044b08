"""Run by test_proxy.py in a fresh interpreter (``python -W error -X dev``).

Serves the proxy-mode handler (``bare``: ``add_post`` only; ``mounted``:
``mount()``) in front of an emulator, sends three signed calls, shuts the app
down and exits.  Any connection left open shows on stderr as "Unclosed client
session" (at the final garbage collection or at interpreter exit), so the test
asserts stderr is empty.  ``control`` leaks a session on purpose, to prove
that such a leak does reach stderr.
"""

from __future__ import annotations

import asyncio
import gc
import sys

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from voice_async.testing import Emulator
from voice_async.webhooks import SIGNATURE_HEADER, twilio_inbound_handler

TOKEN = "leak-check-token-0123456789"


async def main(mounting: str) -> None:
    async with Emulator() as emulator:
        handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode="proxy")
        app = web.Application()
        if mounting == "mounted":
            handler.mount(app, "/voice")
        else:
            app.router.add_post("/voice", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = "http://127.0.0.1:{}/voice".format(*runner.addresses[0][1:2])
        async with aiohttp.ClientSession() as http:
            for i in range(3):
                form = {
                    "CallSid": f"CA{i}",
                    "AccountSid": "AC1",
                    "From": "+15555550100",
                    "To": "+15555550199",
                }
                signature = RequestValidator(TOKEN).compute_signature(url, form)
                headers = {SIGNATURE_HEADER: signature}
                async with http.post(url, data=form, headers=headers) as resp:
                    assert resp.status == 200, resp.status
        if mounting == "control":
            aiohttp.ClientSession()  # the leak the check must be able to see
        await runner.cleanup()
        print("inbound calls:", emulator.stats.inbound_calls)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
    gc.collect()

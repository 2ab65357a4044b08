"""A Twilio voice-webhook receiver in front of StateSet, ready to deploy or to try locally.

It checks ``X-Twilio-Signature`` against the public URL Twilio called, answers
``401`` when it does not match, and otherwise redirects (``307``) Twilio to
StateSet's ``/api/v1/incoming-call`` -- or, with ``--mode proxy``, forwards the
call itself and returns StateSet's TwiML.

Configuration (flags override the environment):

    TWILIO_AUTH_TOKEN        the auth token Twilio signs with (required)
    STATESET_VOICE_BASE_URL  where StateSet is (default https://voice.stateset.app)
    PUBLIC_URL               the URL Twilio calls, if a proxy/tunnel sits in front
    TRUST_PROXY=1            trust X-Forwarded-Proto/-Host (only behind your proxy)
    PORT                     listen port (default 3000)

Run it:

    python examples/webhook_receiver.py --port 3000
    python examples/webhook_receiver.py --emulator            # forward to a local emulator
    python examples/webhook_receiver.py --self-test           # sign, tamper, check, exit

``--self-test`` starts the emulator and the receiver in-process, sends one
request signed exactly as Twilio would (twilio's ``compute_signature``), the
same request again (a replay) and a tampered copy, follows the redirect as
Twilio does, prints what happened and exits 0 only if the signed call reached
StateSet once and the other two got 401.

In your own aiohttp app the handler is a route handler as it is::

    app.router.add_post("/twilio/voice", twilio_inbound_handler(token, mode="proxy"))

``handler.mount(app, path)``, used below, also registers the cleanup hook,
which lets proxy mode keep one pooled connection to StateSet.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import TYPE_CHECKING, NamedTuple

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from voice_async.webhooks import (
    ENV_AUTH_TOKEN,
    SIGNATURE_HEADER,
    ReplayCache,
    twilio_inbound_handler,
)

if TYPE_CHECKING:
    from voice_async.testing import Emulator

PATH = "/twilio/voice"
SAMPLE_CALL = {
    "AccountSid": "AC" + "0" * 32,
    "CallSid": "CA" + secrets.token_hex(16),
    "CallStatus": "ringing",
    "Direction": "inbound",
    "From": "+15555550100",
    "To": "+15555550199",
}


class Receiver(NamedTuple):
    url: str  # where this receiver listens (what Twilio would be configured with)
    target: str  # StateSet's incoming-call URL it hands calls to
    emulator: Emulator | None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "3000")))
    parser.add_argument("--mode", choices=("redirect", "proxy"), default="redirect")
    parser.add_argument("--public-url", default=env.get("PUBLIC_URL"))
    parser.add_argument("--trust-proxy", action="store_true", default=env.get("TRUST_PROXY") == "1")
    parser.add_argument("--emulator", action="store_true", help="forward to a local emulator")
    parser.add_argument("--self-test", action="store_true", help="send 2 requests, then exit")
    args = parser.parse_args(argv)
    if args.self_test:
        args.emulator = True
        args.port = 0
    return args


@asynccontextmanager
async def running(args: argparse.Namespace, token: str) -> AsyncIterator[Receiver]:
    """Start the emulator (if asked) and the receiver; stop both on exit."""
    async with AsyncExitStack() as stack:
        emulator = None
        if args.emulator:
            from voice_async.testing import Emulator

            emulator = await stack.enter_async_context(Emulator())
        handler = twilio_inbound_handler(
            token,
            # None -> STATESET_VOICE_BASE_URL, else the hosted service
            forward_to=emulator.base_url if emulator else None,
            public_url=args.public_url,
            mode=args.mode,
            trust_forwarded=args.trust_proxy,
            replay_cache=ReplayCache(ttl=300),  # a captured request is refused for 5 min
        )
        runner = web.AppRunner(handler.mount(web.Application(), PATH), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)  # also closes the pooled connection
        await web.TCPSite(runner, args.host, args.port).start()
        host, port = runner.addresses[0][:2]
        yield Receiver(f"http://{host}:{port}{PATH}", handler.target, emulator)


async def post_as_twilio(
    session: aiohttp.ClientSession, url: str, token: str, tamper: bool
) -> tuple[int, list[int], str]:
    """POST the sample call signed for ``url``; tampering changes ``From`` after signing."""
    form = dict(SAMPLE_CALL)
    signature = RequestValidator(token).compute_signature(url, form)
    if tamper:
        form["From"] = "+15555550666"
    # Twilio follows the 307 and re-POSTs the same form; aiohttp does the same.
    async with session.post(url, data=form, headers={SIGNATURE_HEADER: signature}) as resp:
        return resp.status, [r.status for r in resp.history], await resp.text()


async def self_test(receiver: Receiver) -> bool:
    token = os.environ[ENV_AUTH_TOKEN]
    emulator = receiver.emulator
    assert emulator is not None
    async with aiohttp.ClientSession() as session:
        status, hops, body = await post_as_twilio(session, receiver.url, token, tamper=False)
        print(f"signed request:   {status} via {hops or 'no redirect'}: {body[:120]}")
        signed_ok = status == 200 and "<Stream" in body and emulator.stats.inbound_calls == 1
        status_r, _, _ = await post_as_twilio(session, receiver.url, token, tamper=False)
        print(f"replayed request: {status_r}")
        status_t, _, _ = await post_as_twilio(session, receiver.url, token, tamper=True)
        print(f"tampered request: {status_t}")
    print(f"inbound sessions created on StateSet: {emulator.stats.inbound_calls}")
    refused = status_r == 401 and status_t == 401
    passed = signed_ok and refused and emulator.stats.inbound_calls == 1
    print("self-test " + ("passed" if passed else "FAILED"))
    return passed


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.emulator and not os.environ.get(ENV_AUTH_TOKEN):
        os.environ[ENV_AUTH_TOKEN] = secrets.token_hex(16)  # throwaway, never printed
    token = os.environ.get(ENV_AUTH_TOKEN)
    if not token:
        print(f"set {ENV_AUTH_TOKEN} (the Twilio auth token)", file=sys.stderr)
        return 2
    async with running(args, token) as receiver:
        print(f"receiver on {receiver.url} (mode={args.mode}) -> {receiver.target}", flush=True)
        if args.self_test:
            return 0 if await self_test(receiver) else 1
        await asyncio.Event().wait()  # serve until Ctrl-C
    return 0


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))

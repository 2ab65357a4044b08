"""The aiohttp handler in front of StateSet, and the two factories that build it."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from urllib.parse import urlsplit

from aiohttp import web

from .._errors import VoiceError
from ._forward import Forwarder
from ._options import TwilioInboundOptions, with_options
from ._request import FORM_CONTENT_TYPE, SignedRequest, read_signed

logger = logging.getLogger("voice_async.webhooks")


class TwilioInboundHandler:
    """Verify Twilio's signature, then pass the call to StateSet.

    The object *is* the aiohttp handler: ``app.router.add_post(path, handler)``
    works as it is.  aiohttp calls only what ``iscoroutinefunction`` accepts
    without a deprecation warning, and an instance with ``async def
    __call__`` is not recognised on its own, so each instance is marked the
    way the standard library provides for exactly this (see
    :func:`_mark_coroutine_function`).

    :meth:`mount` (and :func:`twilio_inbound_app`) also registers
    :meth:`close` on app cleanup, which lets proxy mode keep one pooled
    connection to StateSet; mounted bare, proxy mode opens a connection per
    request instead, so nothing is left open either way.
    """

    def __init__(self, options: TwilioInboundOptions) -> None:
        self.options = options
        self._forwarder = Forwarder(options)
        _mark_coroutine_function(self)

    @property
    def target(self) -> str:
        """The incoming-call URL requests are redirected or forwarded to."""
        return str(self.options.target)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        """Answer one webhook: 401, 307 to the target, or StateSet's TwiML."""
        options = self.options
        signed = await read_signed(
            request, options.auth_token, options.public_url, options.trust_forwarded
        )
        if not signed.ok:
            logger.warning(
                "rejected Twilio webhook for %s: %s signature (check public_url / "
                "trust_forwarded if the URL is not the one Twilio calls)",
                _redact(signed.url),
                "invalid" if signed.signature else "missing",
            )
            return _plain(401, "Unauthorized")
        cache = options.replay_cache
        if cache is not None and not cache.claim(signed.url, signed.signature):
            logger.warning(
                "rejected replayed Twilio webhook for %s (CallSid=%r)",
                _redact(signed.url),
                signed.params.get("CallSid", ""),
            )
            return _plain(401, "Unauthorized")
        if options.mode == "redirect":
            return self._redirect(signed)
        return await self._proxy(request, signed)

    #: The same handler as a bound method, for code that registers ``handler.handle``.
    handle = __call__

    def _redirect(self, signed: SignedRequest) -> web.Response:
        """307 keeps method and body, so Twilio re-POSTs the same form to StateSet.

        The query string carried over is the one that was verified: the
        request's own, or the one pinned in ``public_url``.  Nothing else of
        the request reaches ``Location``, so it can point nowhere but the target.
        """
        query = urlsplit(signed.url).query
        return web.Response(status=307, headers={"Location": self._target_with(query)})

    def _target_with(self, query: str) -> str:
        return self.target + (f"?{query}" if query else "")

    async def _proxy(self, request: web.Request, signed: SignedRequest) -> web.Response:
        """Forward the verified form only: no header of the request goes upstream."""
        if request.content_type != FORM_CONTENT_TYPE:
            return _plain(415, "Unsupported Media Type")
        pooled = self.close in request.app.on_cleanup
        try:
            twiml = await self._forwarder.forward(signed.params, pooled=pooled)
        except VoiceError as exc:
            logger.error(
                "forwarding Twilio webhook to %s failed: %s",
                _redact(self.target),
                self.options.auth_token.scrub(str(exc)),
            )
            if self.options.replay_cache is not None:
                self.options.replay_cache.release(signed.url, signed.signature)
            return _plain(502, "Bad Gateway")
        return web.Response(text=twiml, content_type="text/xml")

    async def close(self, app: web.Application | None = None) -> None:
        """Close the pooled connection (never a client you passed).  An on_cleanup hook."""
        await self._forwarder.aclose()

    def mount(self, app: web.Application, path: str | None = None) -> web.Application:
        """Route ``POST path`` (default ``options.path``) here and close on app cleanup."""
        app.router.add_post(path or self.options.path, self)
        app.on_cleanup.append(self.close)
        return app

    def __repr__(self) -> str:
        return f"TwilioInboundHandler(mode={self.options.mode!r}, target={self.target!r})"


def _mark_coroutine_function(handler: TwilioInboundHandler) -> None:
    """Make ``iscoroutinefunction(handler)`` true, as it is for an ``async def``.

    Python 3.12+ has :func:`inspect.markcoroutinefunction` for callables that
    return coroutines but are not functions.  Before 3.12 the same is done
    with the marker ``asyncio.iscoroutinefunction`` looks for (what asgiref's
    ``markcoroutinefunction`` does for Django's async middleware instances).
    """
    if sys.version_info >= (3, 12):
        inspect.markcoroutinefunction(handler)
    else:
        handler.__dict__["_is_coroutine"] = vars(asyncio.coroutines)["_is_coroutine"]


def _redact(url: str) -> str:
    """A URL fit for a log line: no userinfo, no query values."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" + ("?..." if parts.query else "")


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


@with_options(TwilioInboundOptions)
def twilio_inbound_handler(options: TwilioInboundOptions) -> TwilioInboundHandler:
    """An aiohttp handler for Twilio's voice webhook, in front of StateSet.

    Takes the arguments of :class:`TwilioInboundOptions`; use the result
    directly as a route handler, or call its ``mount(app)``:

    * missing or invalid ``X-Twilio-Signature`` (or a replay): ``401``, no details;
    * ``mode="redirect"``: ``307`` to the target (the verified query string
      kept); 307 makes Twilio re-POST the same form there;
    * ``mode="proxy"``: forwards the form itself and returns StateSet's TwiML
      -- for when Twilio must not see the StateSet URL.  A forwarding failure
      or ``forward_timeout`` is ``502``.
    """
    return TwilioInboundHandler(options)


@with_options(TwilioInboundOptions)
def twilio_inbound_app(options: TwilioInboundOptions) -> web.Application:
    """A ready ``web.Application`` with the handler on ``POST options.path``.

    Takes the arguments of :class:`TwilioInboundOptions`.  Run it with
    ``web.run_app(twilio_inbound_app(...))``; its pooled connection (proxy
    mode) is closed on app cleanup.
    """
    return TwilioInboundHandler(options).mount(web.Application())

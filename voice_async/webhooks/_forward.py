"""Proxy mode: post the verified form to StateSet and bring back its TwiML.

Who owns the connection decides everything here:

* a ``client`` you passed: forward through it; it is yours to close;
* otherwise, when the handler's cleanup hook is registered on the app the
  request came in on (:meth:`TwilioInboundHandler.mount` does that), one
  pooled connection per handler, closed by that hook;
* otherwise (the handler was added as a bare route): a connection for this
  request only, closed before the response goes out.  Nothing can then leak
  at app shutdown or interpreter exit, whoever forgot what.  One connection
  per inbound call is affordable: Twilio sends one webhook per call.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._config import DEFAULT_MAX_CONNECTIONS, ClientConfig
from .._transport import Transport
from ._options import TwilioInboundOptions


class Forwarder:
    """Sends the form to ``options.target``; not retried (Twilio retries webhooks)."""

    def __init__(self, options: TwilioInboundOptions) -> None:
        self._options = options
        self._pooled: Transport | None = None

    async def forward(self, form: Mapping[str, str], *, pooled: bool) -> str:
        """The TwiML StateSet answered; raises only ``VoiceError`` subclasses."""
        options = self._options
        if options.client is not None:
            return await options.client.calls.forward_incoming(
                form, timeout=options.forward_timeout
            )
        if pooled:
            if self._pooled is None:
                self._pooled = self._transport()
            return await self._send(self._pooled, form)
        transport = self._transport()
        try:
            return await self._send(transport, form)
        finally:
            await transport.aclose()

    async def aclose(self) -> None:
        """Close the pooled connection, if any (never a client you passed).  Idempotent."""
        transport, self._pooled = self._pooled, None
        if transport is not None:
            await transport.aclose()

    async def _send(self, transport: Transport, form: Mapping[str, str]) -> str:
        response = await transport.request(
            "POST",
            self._options.target.path,
            auth="none",
            form=form,
            timeout=self._options.forward_timeout,
            expect_json=False,
        )
        return response.text

    def _transport(self) -> Transport:
        """A transport to the target's origin; the path is sent as given.

        It carries no StateSet key (this endpoint takes none, and the
        environment is not read), and it masks the Twilio auth token in
        anything it reports, should a misbehaving upstream echo it.
        """
        options = self._options
        config = ClientConfig.resolve(
            api_key=None,
            admin_key=None,
            base_url=str(options.target.origin()),
            timeout=options.forward_timeout,
            max_retries=0,
            deadline=None,
            max_connections=DEFAULT_MAX_CONNECTIONS,
            allow_insecure_http=options.allow_insecure_http,
            env={},
        )
        transport = Transport(config)
        transport.secrets = (*transport.secrets, *options.auth_token.reveal())
        return transport

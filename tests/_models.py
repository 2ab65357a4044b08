"""Model values the unit tests build by hand (no server, no JSON in between)."""

from __future__ import annotations

from datetime import datetime

from voice_async import VoiceSession


def completed_session(session_id: str, created_at: datetime) -> VoiceSession:
    """A completed outbound call with the suite's usual numbers and agent.

    Only ``id`` and ``created_at`` vary: they are what pagination orders and
    deduplicates by, so they are all a paging test needs to choose.
    """
    return VoiceSession(
        id=session_id,
        status="completed",
        direction="outbound",
        to="+15555555678",
        from_="+15555551234",
        agent_key="support_primary",
        created_at=created_at,
    )

"""The deterministic content of a simulated call (what is said, which tool runs).

Shared by the live lifecycle of placed calls and by the lazily generated logs
of seeded sessions, so both look alike. Everything comes from the ``rng``
passed in, which is what makes a run reproducible from the emulator seed.
"""

from __future__ import annotations

import random
from typing import Any

Step = tuple[str, dict[str, Any]]

#: Final statuses a simulated call can end with.
OUTCOMES = ("completed", "failed", "no_answer", "busy", "canceled")

_CALLER_LINES = (
    "Hi, I'd like to check on my order.",
    "It was placed last Tuesday.",
    "Can you tell me when it will arrive?",
    "I also want to update my delivery address.",
    "Thanks, that's all I needed.",
)
_AGENT_LINES = (
    "Sure, I can help with that.",
    "Let me look that up for you.",
    "Your order has shipped and should arrive on Friday.",
    "Done, the address is updated.",
    "You're welcome, have a great day!",
)


def _partial(text: str) -> str:
    words = text.split()
    return " ".join(words[: max(1, len(words) // 2)])


def _tool_steps(rng: random.Random, metadata: dict[str, Any]) -> list[Step]:
    order_id = metadata.get("order_id")
    if not isinstance(order_id, str):
        order_id = f"A-{rng.randrange(1000, 10000)}"
    arguments = {"order_id": order_id}
    result = {"order_id": order_id, "status": "shipped", "eta_days": rng.randrange(1, 6)}
    return [
        ("tool.call", {"name": "lookup_order", "arguments": arguments}),
        ("tool.result", {"name": "lookup_order", "result": result}),
    ]


def conversation(rng: random.Random, metadata: dict[str, Any]) -> list[Step]:
    """One to three caller/agent exchanges, with a tool call in the first one
    when the call carries an ``order_id`` (or, otherwise, half of the time)."""
    with_tool = "order_id" in metadata or rng.random() < 0.5
    steps: list[Step] = []
    for turn in range(rng.randrange(1, 4)):
        said = rng.choice(_CALLER_LINES)
        steps.append(("transcript.partial", {"role": "caller", "text": _partial(said)}))
        steps.append(("transcript.final", {"role": "caller", "text": said}))
        if with_tool and turn == 0:
            steps.extend(_tool_steps(rng, metadata))
        reply = rng.choice(_AGENT_LINES)
        steps.append(("agent.response", {"text": reply}))
        steps.append(("transcript.final", {"role": "agent", "text": reply}))
    return steps


def call_steps(
    rng: random.Random, started: dict[str, Any], outcome: str, metadata: dict[str, Any]
) -> list[Step]:
    """Every step up to and including the final ``session.status``.

    ``session.ended`` is left to the caller because its ``duration_seconds``
    is only known when the (simulated) call really ends.
    """
    steps: list[Step] = [
        ("session.started", started),
        ("session.status", {"status": "ringing"}),
    ]
    if outcome == "completed":
        steps.append(("session.status", {"status": "in_progress"}))
        steps.extend(conversation(rng, metadata))
    steps.append(("session.status", {"status": outcome}))
    return steps


def outcome_from_metadata(metadata: dict[str, Any]) -> str:
    """Placed calls complete, unless ``metadata["emulator_outcome"]`` names an outcome."""
    wanted = metadata.get("emulator_outcome")
    return wanted if isinstance(wanted, str) and wanted in OUTCOMES else "completed"

"""What reaches the user's terminal: server text made harmless, strict JSON, and
the same options, messages and exit codes everywhere.

Hostile answers come from loopback servers written to misbehave (not the
emulator): an error message or request id carrying ANSI escapes and BEL, a
transcript that tries to retitle the terminal, a NaN where a number belongs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from voice_async.cli import _output
from voice_async.testing import Emulator

from ._cli import CALL_JSON, CLI, assert_one_error_line, cli, env_for, interrupt, run_cli, start_cli
from .reliability._servers import RawServer, Reply, ScriptedServer

NASTY = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b1m\u202eevil"


def assert_terminal_safe(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\u202e" not in text


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=20, seed=9) as emulator:
        yield emulator


# -- server text is escaped ------------------------------------------------------


async def test_error_message_from_server_is_escaped() -> None:
    async with ScriptedServer() as server:
        body = {"error": {"type": "not_found", "message": f"no session {NASTY}\nsecond line"}}
        server.reply = Reply(status=404, body=json.dumps(body).encode())
        code, out, err = await run_cli(
            "sessions", "get", "vs_1", env=env_for(base_url=server.base_url)
        )
    assert code == 1 and out == ""
    assert_one_error_line(err)
    assert_terminal_safe(err)
    assert "\\x1b[2J" in err  # shown, harmlessly


async def test_request_id_header_is_escaped() -> None:
    async with RawServer() as server:
        body = b'{"error": {"type": "server_error", "message": "boom"}}'
        server.payload = (
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            b"x-request-id: req_\x1b[31m\x07\x9b\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        code, _, err = await run_cli(
            "sessions", "get", "vs_1", env=env_for(base_url=server.base_url)
        )
    assert code == 1
    assert_one_error_line(err)
    assert_terminal_safe(err)


def frame(seq: int, type_: str, data: dict[str, object]) -> str:
    return json.dumps(
        {
            "type": type_,
            "session_id": "vs_1",
            "seq": seq,
            "ts": "2026-11-25T15:30:09Z",
            "data": data,
        }
    )


async def test_watch_escapes_transcripts_and_prints_each_utterance_once() -> None:
    async with ScriptedServer() as server:
        server.frames = [
            frame(1, "transcript.final", {"role": "caller", "text": f"hi {NASTY}"}),
            frame(2, "agent.response", {"text": "Sure."}),
            frame(3, "transcript.final", {"role": "agent", "text": "Sure."}),
            frame(4, "transcript.final", {"role": "agent", "text": "Anything else?"}),
            frame(5, "session.ended", {"status": "completed", "duration_seconds": 3}),
        ]
        code, out, err = await run_cli(
            "sessions", "watch", "vs_1", env=env_for(base_url=server.base_url)
        )
    assert code == 0, err
    assert_terminal_safe(out)
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["#1", "#2", "#4", "#5"]
    assert sum("Sure." in line for line in lines) == 1
    assert "Anything else?" in lines[2]  # an agent line without a reply is kept


async def test_nan_never_reaches_json_output() -> None:
    session = (
        b'{"id": "vs_1", "tenant_id": "tn", "status": "completed", "direction": "inbound",'
        b' "to": "+15555550000", "from": "+15555550001", "agent_key": "a",'
        b' "created_at": "2026-11-25T15:30:09Z", "duration_seconds": NaN, "metadata": {}}'
    )
    async with ScriptedServer() as server:
        server.reply = Reply(body=session)
        code, out, err = await run_cli(
            "sessions", "get", "vs_1", "--json", env=env_for(base_url=server.base_url)
        )
    assert "NaN" not in out and "Infinity" not in out
    if code == 0:  # the decoder let the NaN through: it is written as null
        assert json.loads(out, parse_constant=pytest.fail)["duration_seconds"] is None
    else:  # the decoder rejected it: one clear line
        assert code == 1
        assert_one_error_line(err)


def test_output_helpers() -> None:
    assert _output.clean("a\x1b[2Jb\x07\n\x9b\u2028") == "a\\x1b[2Jb\\x07\\x0a\\x9b\\u2028"
    assert _output.clean("\udc9b") == "\\udc9b"  # a lone surrogate cannot crash print()
    assert _output.clean("Zoë 🙂 +1 555") == "Zoë 🙂 +1 555"
    nested = {"a": float("nan"), "b": [1.5, float("-inf"), {"c": float("inf")}], "d": "x"}
    assert json.loads(_output.dumps(nested)) == {"a": None, "b": [1.5, None, {"c": None}], "d": "x"}
    assert _output.dumps({"t": "é\u2028"}).isascii()
    assert _output.csv_cell("=1+1") == "'=1+1"
    assert _output.csv_cell("+15555550123") == "+15555550123"
    assert _output.csv_cell("+0123") == "'+0123"  # not E.164
    assert _output.csv_cell("+1234567890123456") == "'+1234567890123456"  # 16 digits
    assert _output.csv_cell("plain") == "plain" and _output.csv_cell(None) == ""
    assert _output.csv_cell(-3) == -3  # a number is written as a number


async def test_rich_markup_in_data_is_text(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        form = {"CallSid": "CA" + "1" * 32, "From": "[bold]x[/bold]" + NASTY, "To": "+1555555"}
        async with http.post(emu.base_url + "/api/v1/incoming-call", data=form) as r:
            assert r.status == 200
    code, out, _ = await cli(emu, "sessions", "list", "--limit", "3")
    assert code == 0 and "[bold]x[/bold]" in out
    assert_terminal_safe(out)


# -- one behaviour for every command ----------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "sessions", "list", "--limit", "2"],
        ["sessions", "list", "--limit", "2", "--json"],
        ["--json", "--debug", "sessions", "list", "--limit", "2"],
    ],
)
async def test_global_options_before_or_after(emu: Emulator, argv: list[str]) -> None:
    code, out, err = await cli(emu, *argv)
    assert code == 0, err
    assert len(json.loads(out)["data"]) == 2


async def test_base_url_before_and_after(emu: Emulator) -> None:
    env = {**env_for(emu), "STATESET_VOICE_BASE_URL": "http://127.0.0.1:1"}
    for argv in (
        ["--base-url", emu.base_url, "sessions", "list", "--json"],
        ["sessions", "list", "--json", "--base-url", emu.base_url],
    ):
        code, out, err = await run_cli(*argv, env=env)
        assert code == 0 and json.loads(out)["total"] == 20, err


@pytest.mark.parametrize(
    ("argv", "env_key", "code", "says"),
    [
        (["sessions", "list"], False, 2, "set STATESET_VOICE_API_KEY"),
        (["admin", "config", "get", "tn_1"], False, 2, "set STATESET_ADMIN_API_KEY"),
        (
            ["--base-url", "http://example.com", "sessions", "list"],
            True,
            2,
            "--allow-insecure-http",
        ),
        (["sessions", "list", "--base-url", "ftp://x"], True, 2, "--base-url must be"),
        (
            ["call", "--to", "+1555", "--from", "+1", "--agent-key", "a", "--metadata", "{x"],
            True,
            2,
            "not valid JSON",
        ),
        (["sessions", "list", "--limit", "0"], True, 2, "error: --limit: "),
        (
            ["call", "--to", "+15555555678", "--from", "12", "--agent-key", "a"],
            True,
            2,
            "error: --from: must be an E.164 number",
        ),
        (
            ["sessions", "export", "--out", "x.jsonl", "--page-size", "0"],
            True,
            2,
            "error: --limit: ",
        ),
        (["sessions", "bogus"], True, 2, "invalid choice"),
        (["--base-url", "http://127.0.0.1:1", "sessions", "list"], True, 1, "Cannot connect"),
    ],
)
async def test_exit_codes_and_hints(argv: list[str], env_key: bool, code: int, says: str) -> None:
    env = env_for(base_url="http://127.0.0.1:1") if env_key else env_for()
    got, out, err = await run_cli(*argv, env=env)
    assert (got, out) == (code, ""), err
    assert says in err
    assert_one_error_line(err)
    python_spellings = (
        "api_key=",
        "admin_key=",
        "allow_insecure_http=",
        "base_url",
        "from_",
        "page_size",
    )
    for python_spelling in python_spellings:
        assert python_spelling not in err


async def test_demo_json_refuses() -> None:
    code, out, err = await cli(None, "demo", "--json")
    assert code == 2 and out == "" and "no JSON output" in err
    assert_one_error_line(err)


HELP_COMMANDS = [
    [],
    ["demo"],
    ["call"],
    ["sessions"],
    ["sessions", "list"],
    ["sessions", "get"],
    ["sessions", "export"],
    ["sessions", "watch"],
    ["admin", "config", "get"],
    ["admin", "config", "set"],
    ["emulator"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_is_plain_text(command: list[str]) -> None:
    done = subprocess.run(
        [*CLI, *command, "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    for markup in ("``", ":class:", ":meth:", ":func:"):
        assert markup not in done.stdout
    if command in (["call"], ["demo"]):
        assert "--from NUMBER" in done.stdout and "--to NUMBER" in done.stdout
    if command == ["emulator"]:
        assert "(default: 8787)" in done.stdout and "(default: 0.4)" in done.stdout


def imported_modules(*argv: str) -> tuple[set[str], float]:
    """Modules a fresh interpreter imports for ``argv``, and their total import ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
    timed = [
        (r[2].strip(), int(r[0].split(":")[1]))
        for r in rows
        if r[0].split(":")[1].strip().isdigit()
    ]
    return {name for name, _ in timed}, sum(us for _, us in timed) / 1000


@pytest.mark.parametrize("command", [[], ["sessions", "export"], ["demo"]], ids=" ".join)
def test_help_does_not_import_the_network_stack(command: list[str]) -> None:
    modules, total_ms = imported_modules("-m", "voice_async", *command, "--help")
    assert "voice_async.cli" in modules  # the probe sees our imports
    heavy = {m for m in modules if m.split(".")[0] in ("aiohttp", "websockets", "cattrs", "rich")}
    assert heavy == set()
    assert total_ms < 1000  # ~40 ms on an idle machine; generous for a loaded one


def test_import_voice_async_is_lazy_and_complete() -> None:
    import voice_async

    modules, _ = imported_modules("-c", "import voice_async")
    assert "voice_async" in modules
    assert not {
        m for m in modules if m.split(".")[0] in ("aiohttp", "websockets", "cattrs", "rich")
    }
    for name in voice_async.__all__:
        assert getattr(voice_async, name) is not None
    assert set(voice_async.__all__) <= set(dir(voice_async))
    with pytest.raises(AttributeError):
        _ = voice_async.NoSuchName  # type: ignore[attr-defined]


# -- Ctrl-C ------------------------------------------------------------------------


async def test_ctrl_c_on_watch_prints_the_after_seq() -> None:
    # A call lasting several seconds: under load the CLI must still be watching
    # (not already finished) when the SIGINT arrives.
    async with Emulator(event_interval=1.0) as emu:
        code, out, _ = await cli(emu, *CALL_JSON, "--agent-key", "a")
        sid = json.loads(out)["session_id"]
        proc = await start_cli(emu, "sessions", "watch", sid)
        assert proc.stdout is not None
        seen = [await asyncio.wait_for(proc.stdout.readline(), 30) for _ in range(2)]
        code, rest, err = await interrupt(proc)
        printed = [line for line in (b"".join(seen).decode() + rest).splitlines() if line]
        last = int(printed[-1].split()[0].lstrip("#"))
        assert code == 130 and "Traceback" not in err and err.count("\n") == 1
        assert err.strip().endswith(f"stateset-voice sessions watch {sid} --after-seq {last}")
        code, out, _ = await cli(emu, "sessions", "watch", sid, "--after-seq", str(last), "--json")
        assert code == 0 and json.loads(out.splitlines()[0])["seq"] == last + 1

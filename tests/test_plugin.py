"""The pytest plugin as users meet it: a separate project, run by pytest in a
subprocess with the plugin loaded from its entry point, under ``-W error``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USER_TESTS = """
import aiohttp
import pytest

from voice_async import AsyncVoiceClient
from voice_async.testing import Emulator


@pytest.mark.asyncio
@pytest.mark.voice_emulator(sessions=4, seed=9)
async def test_emulator_is_configured_by_the_marker(voice_emulator):
    assert isinstance(voice_emulator, Emulator)
    headers = {"Authorization": "Bearer " + voice_emulator.api_key}
    async with aiohttp.ClientSession() as http:
        url = voice_emulator.base_url + "/api/v1/voice-sessions"
        async with http.get(url, headers=headers) as reply:
            assert (await reply.json())["total"] == 4


@pytest.mark.asyncio
async def test_client_talks_to_the_same_emulator(voice_client, voice_emulator):
    assert isinstance(voice_client, AsyncVoiceClient)
    call = await voice_client.make_call(
        to="+15555555678", from_="+15555551234", agent_key="support_primary")
    assert voice_emulator.stats.calls_placed == 1
    assert (await voice_client.sessions.get(call.session_id)).id == call.session_id


@pytest.mark.voice_emulator(sessions=2)
class TestMarkerOnAClass:
    @pytest.mark.asyncio
    @pytest.mark.voice_emulator(seed=3)
    async def test_closest_marker_wins_per_keyword(self, voice_emulator):
        assert voice_emulator.total_sessions == 2


@pytest.mark.parametrize("generic", ["client", "emulator"])
def test_the_plugin_defines_no_generic_names(request, generic):
    with pytest.raises(pytest.FixtureLookupError):
        request.getfixturevalue(generic)
"""

AUTO_ONLY = """

async def test_unmarked_in_auto_mode(voice_client):
    page = await voice_client.sessions.list(limit=1)
    assert len(page.data) == 0
"""

#: pytest-asyncio >= 0.24 itself warns, at configure time and for every
#: project, when asyncio_default_fixture_loop_scope is unset; under -W error
#: that stops pytest before any fixture exists. Filtering exactly that warning
#: shows that voice_async's fixtures do not need the option.
LOOP_SCOPE_UNSET = (
    'ignore:The configuration option "asyncio_default_fixture_loop_scope" is unset'
    ":pytest.PytestDeprecationWarning"
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra)
    return env


def _pytest(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", *args],
        cwd=project,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _project(tmp_path: Path, ini: str, tests: str) -> Path:
    (tmp_path / "pytest.ini").write_text(textwrap.dedent(ini))
    (tmp_path / "test_user.py").write_text(tests)
    return tmp_path


@pytest.mark.parametrize("mode", ["strict", "auto"])
@pytest.mark.parametrize("loop_scope", ["function", None])
def test_fixtures_in_a_user_project(tmp_path: Path, mode: str, loop_scope: str | None) -> None:
    ini = f"[pytest]\nasyncio_mode = {mode}\n"
    args: list[str] = []
    if loop_scope is None:
        args = ["-W", LOOP_SCOPE_UNSET]
    else:
        ini += f"asyncio_default_fixture_loop_scope = {loop_scope}\n"
    tests = USER_TESTS + (AUTO_ONLY if mode == "auto" else "")
    result = _pytest(_project(tmp_path, ini, tests), *args)
    expected = 6 if mode == "auto" else 5
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{expected} passed" in result.stdout, result.stdout


def test_pyproject_configuration_works_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent("""
        [tool.pytest.ini_options]
        asyncio_mode = "strict"
        asyncio_default_fixture_loop_scope = "function"
        filterwarnings = ["error"]
    """)
    )
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


NO_FIXTURES_CONFTEST = """
import sys


def pytest_collection_finish(session):
    heavy = sorted(
        name for name in ("aiohttp", "cattrs", "voice_async.testing._emulator")
        if name in sys.modules
    )
    plugin = "voice_async.testing.plugin" in sys.modules
    with open("imports.txt", "w") as out:
        out.write(f"plugin={plugin} heavy={','.join(heavy)}")
"""


def test_a_project_that_never_uses_the_fixtures_imports_no_aiohttp(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n",
        "def test_plain():\n    assert True\n",
    )
    (project / "conftest.py").write_text(NO_FIXTURES_CONFTEST)
    result = _pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    # The plugin was loaded from its entry point, and imported nothing heavy.
    assert (project / "imports.txt").read_text() == "plugin=True heavy="


def test_without_pytest_asyncio_a_fixture_says_what_to_install(tmp_path: Path) -> None:
    # Simulate an environment without pytest-asyncio: its import fails, and
    # plugins are loaded explicitly (autoload would load the real one).
    hidden = tmp_path / "hide"
    (hidden / "pytest_asyncio").mkdir(parents=True)
    (hidden / "pytest_asyncio" / "__init__.py").write_text(
        "raise ImportError('pytest-asyncio is not installed')\n"
    )
    (tmp_path / "proj").mkdir()
    project = _project(tmp_path / "proj", "[pytest]\n", "def test_uses(voice_client):\n    pass\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-p",
            "voice_async.testing.plugin",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
            "PYTHONPATH": os.pathsep.join([str(hidden), str(ROOT)]),
        },
    )
    assert result.returncode == 1, result.stdout + result.stderr
    message = (
        "the voice_client fixture of voice_async needs pytest-asyncio: pip install pytest-asyncio"
    )
    assert message in result.stdout
    assert "Traceback" not in result.stdout


def _readme_block(language: str, first_line: str) -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(rf"```{language}\n(.*?)```", readme, flags=re.S)
    found = [block for block in blocks if block.startswith(first_line + "\n")]
    assert len(found) == 1, f"README needs exactly one {language} block starting {first_line!r}"
    return found[0]


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_readme_fixture_example_passes_as_written(tmp_path: Path, mode: str) -> None:
    ini = _readme_block("ini", "# pytest.ini")
    assert "asyncio_mode = strict" in ini
    (tmp_path / "pytest.ini").write_text(ini.replace("strict", mode))
    (tmp_path / "test_calls.py").write_text(_readme_block("python", "# test_calls.py"))
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout

"""Show (and check) which versions of the runtime dependencies a CI venv holds.

Default: compare each runtime dependency of voice-async (and aiohttp's yarl
and multidict) with the newest release the index offers for this Python
(``pip index versions``); exit 1 if pip resolved anything older, because then
the "newest" job would not test what ``pip install voice-async`` gives users.
With ``--pinned FILE``: check that the venv holds exactly the ``==`` pins of
that constraints file (the minimum-versions job).
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, requires, version

EXTRA_TRANSITIVE = ("yarl", "multidict")


def runtime_dependencies() -> list[str]:
    names = []
    for requirement in requires("voice-async") or []:
        if "extra ==" in requirement:
            continue
        names.append(re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0])
    return names + [name for name in EXTRA_TRANSITIVE if name not in names]


def newest_on_index(name: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(rf"^{re.escape(name)} \(([^)]+)\)", out, flags=re.M | re.I)
    if match is None:
        raise SystemExit(f"could not read the newest {name} from: {out!r}")
    return match.group(1)


def installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def check_newest() -> int:
    stale = 0
    print(f"{'dependency':<12} {'installed':<12} newest on index")
    for name in runtime_dependencies():
        have, newest = installed(name), newest_on_index(name)
        mark = "" if have == newest else "   <- OLDER"
        stale += bool(mark)
        print(f"{name:<12} {have:<12} {newest}{mark}")
    if stale:
        print("pip resolved an older version than the newest release; see above")
    return 1 if stale else 0


def check_pinned(path: str) -> int:
    wrong = 0
    with open(path, encoding="utf-8") as lines:
        specs = list(lines)
    for line in specs:
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        name, _, pinned = spec.partition("==")
        have = installed(name)
        mark = "" if have == pinned or have.startswith(pinned + ".") else "   <- NOT THE PIN"
        wrong += bool(mark)
        print(f"{name:<16} {have:<10} pinned {pinned}{mark}")
    return 1 if wrong else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pinned":
        sys.exit(check_pinned(sys.argv[2]))
    sys.exit(check_newest())

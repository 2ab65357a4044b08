"""How work is cut: shard assignment by row key, snapshot offset windows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_async import InvalidRequestError
from voice_async.contrib import shard_of, split_offsets

KEYS = [f"row-{i}" for i in range(2_000)]


def test_shard_of_is_the_same_in_every_process() -> None:
    """Python's hash() is salted per process; the shard must not be."""
    code = (
        "import sys; from voice_async.contrib import shard_of; "
        "print(','.join(str(shard_of(f'row-{i}', 7)) for i in range(2000)))"
    )
    answers = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        answers.add(out.stdout.strip())
    assert answers == {",".join(str(shard_of(k, 7)) for k in KEYS)}


def test_shards_are_balanced_and_order_free() -> None:
    counts = Counter(shard_of(k, 4) for k in reversed(KEYS))
    assert set(counts) == {0, 1, 2, 3}
    assert all(400 <= n <= 600 for n in counts.values())  # 500 expected each
    assert [shard_of(k, 4) for k in KEYS] == [shard_of(k, 4) for k in list(KEYS)]


@pytest.mark.parametrize("bad", [0, -1, 10_001, True, 2.0])
def test_bad_shard_counts_are_refused(bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="shards"):
        shard_of("k", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="windows"):
        split_offsets(10, bad)  # type: ignore[arg-type]


def test_empty_keys_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="key"):
        shard_of("", 3)


@given(
    total=st.integers(0, 100_000),
    windows=st.integers(1, 64),
    page_size=st.integers(1, 100),
)
def test_windows_tile_the_snapshot_in_whole_pages(total: int, windows: int, page_size: int) -> None:
    parts = split_offsets(total, windows, page_size)
    assert 1 <= len(parts) <= windows
    assert [p.index for p in parts] == list(range(len(parts)))
    position = 0
    for part in parts:
        assert part.offset == position and part.offset % page_size == 0
        position += part.limit
    assert position == total
    pages = [-(-p.limit // page_size) for p in parts]
    if total:
        assert all(p.limit > 0 for p in parts)
        assert max(pages) - min(pages) <= 1

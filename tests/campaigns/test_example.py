"""examples/campaign.py runs against the embedded emulator."""

from __future__ import annotations

import re

from ..test_examples import run_example


def test_campaign_example_resumes_and_dials_each_row_once() -> None:
    out = run_example("campaign.py", "--emulator")
    first = re.search(r"placed (\d+), failed 0, skipped \(already done\) 0", out)
    second = re.search(
        r"placed (\d+), failed 0, skipped \(already done\) (\d+)", out.split("second pass")[1]
    )
    assert first and second
    assert int(second.group(2)) == int(first.group(1))  # the second pass skipped them
    assert int(first.group(1)) + int(second.group(1)) == 60
    assert "journal run.jsonl: 60 outcomes, one per row" in out

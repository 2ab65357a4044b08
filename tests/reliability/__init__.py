"""Reliability suites R1-R5 and the load test: the at-scale and fuzz versions.

The single-case proofs of each promise live in the unit and e2e tests
(``tests/test_*.py``); see ``docs/reliability.md`` for which test proves what.
"""

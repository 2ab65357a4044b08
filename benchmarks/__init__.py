"""Benchmarks of voice_async against raw baselines (scripts, not tests).

Run them all with ``python -m benchmarks``; see ``benchmarks/README.md``.
"""

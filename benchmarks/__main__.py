"""``python -m benchmarks``: run every benchmark and print the table of ratios."""

from .run import main

raise SystemExit(main())

"""``python -m voice_async.testing`` runs the emulator in the foreground."""

from __future__ import annotations

import sys

from ._serve import main

if __name__ == "__main__":
    sys.exit(main())

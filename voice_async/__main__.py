"""``python -m voice_async`` is the ``stateset-voice`` CLI."""

import sys

from .cli import main

sys.exit(main())

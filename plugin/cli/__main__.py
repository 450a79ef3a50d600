"""``python -m vscolorize.cli``: the same as the ``vscolorize`` command."""

import sys

from . import main

sys.exit(main())

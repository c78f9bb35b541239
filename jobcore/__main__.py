"""Entry point of ``python -m jobcore``."""

import sys

from jobcore.cli import main

sys.exit(main())

"""Entry point of ``python -m jobcore``."""

import sys

from jobcore.cli.main import main

sys.exit(main())

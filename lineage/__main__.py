"""``python -m lineage``: the same command line as ``lineage``."""

import sys

from lineage.cli.main import main

sys.exit(main())

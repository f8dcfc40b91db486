"""``python -m myoxai`` runs the command line."""

import sys

from myoxai.cli import main

sys.exit(main())

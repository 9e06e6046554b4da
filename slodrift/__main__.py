"""`python -m slodrift`."""

import sys

from slodrift.cli import main

sys.exit(main())

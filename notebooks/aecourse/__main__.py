"""`python -m aecourse COMMAND`, run from the notebooks/ folder; the commands live in aecourse.commands."""

import sys

from .commands.cli import main

sys.exit(main())

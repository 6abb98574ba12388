"""``python -m kubesession``: the CLI (see ``kubesession.cli``)."""

import sys

from .cli import main

sys.exit(main())

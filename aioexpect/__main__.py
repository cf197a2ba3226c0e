"""``python -m aioexpect``: the same as the ``aioexpect`` command."""

from ._cli import main

raise SystemExit(main())

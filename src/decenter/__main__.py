"""``python -m decenter``: the ``decenter`` command line (see :mod:`decenter.cli`)."""

from decenter.cli import main

raise SystemExit(main())

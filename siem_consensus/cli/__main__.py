"""``python -m siem_consensus.cli``: the same as the ``siem-consensus`` command."""

from . import main

raise SystemExit(main())

"""``python -m pixserve.cli``: the same as the ``pixserve`` command."""

from pixserve.cli.main import main

main()

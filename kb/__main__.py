"""``python -m kb``: the same CLI as the ``kb`` command."""

from kb.cli import main

main()

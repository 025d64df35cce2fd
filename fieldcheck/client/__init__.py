"""A small client of fieldcheck's JSON API, and ``fieldcheck-sync`` (docs/api.md, "Issue 15").

``pip install .`` installs this package alone (the server runs from a checkout): it needs only
``requests`` and ``tqdm`` and imports no other fieldcheck module (.importlinter, contract 7).
"""

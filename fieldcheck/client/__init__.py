"""A small client of fieldcheck's JSON API, and ``fieldcheck-sync`` (docs/api.md, "Issue 15").

Installed on its own (``pip install fieldcheck`` without the ``server`` extra): it needs only
``requests`` and ``tqdm`` and imports no other fieldcheck package (.importlinter, contract 7).
"""

"""The pure core: legal checks, scoring, banding and roll-up over plain data.

A score is computed by ``fieldcheck.core.evaluate``; nothing here imports Flask, SQLAlchemy or
the clock.
"""

from fieldcheck.core.evaluate import Evaluation, FindingKey, evaluate, finding_key

__all__ = ["Evaluation", "FindingKey", "evaluate", "finding_key"]

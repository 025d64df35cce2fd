"""The transactional outbox: events written in the transaction that causes them.

Low in the layer order (beside regions and audit) so intake, review, zoning and publication can
all queue an event; ``fieldcheck.webhooks`` (at the top) fans the rows out into deliveries and
sends them after commit. See ``fieldcheck.outbox.events`` for the event types and payloads.
"""

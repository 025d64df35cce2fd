"""Named signals: how a lower package lets higher ones react without importing them.

The layer order (docs/architecture.md) lets a package call only the packages below it. Where a
lower package's event needs work from a higher one, the lower one sends a signal and the higher
one connects a receiver when it is imported (the app factory imports every package through its
blueprints and ``register_signal_receivers``). Receivers run synchronously, inside the sender's
request and transaction: one transaction per request still holds, and a receiver's error rolls
the whole request back. (Indico keeps cross-module reactions the same way, in
``indico/core/signals/``.)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent by intake (fieldcheck.inspections) before a new inspection is stored, with the
#: ``inspections.services.Received`` (no id yet) as sender: fieldcheck.evidence computes its
#: integrity flags and photo summary into it, so the row is written once, flags included.
inspection_checking = _signals.signal("inspection-checking")

#: Sent by intake once the new inspection is stored (in the same transaction), with the
#: ``Received`` (now with its id) as sender. fieldcheck.evidence stores the photo links and flag
#: rows and updates the other inspections a flag names.
inspection_received = _signals.signal("inspection-received")

#: Sent by fieldcheck.evidence when it decides whether someone may see a photo, with the photo's
#: SHA-256 as sender. Each receiver returns a select of inspection ids whose records cite the
#: photo (fieldcheck.review: objections); whoever may see one of those inspections may see it.
photo_citations = _signals.signal("photo-citations")

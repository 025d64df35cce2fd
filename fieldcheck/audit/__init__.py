"""The insert-only audit log, sealed after commit into a keyed hash chain anchored outside the
database (decisions.md, "Issue 14: the audit chain")."""

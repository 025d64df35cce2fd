"""The Kemendagri region list and the region-prefix filter every package uses."""

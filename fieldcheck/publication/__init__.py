"""Publication of zoning runs and supervisors' overrides of a unit's final zone (issue 4)."""

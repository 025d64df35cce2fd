"""The supervisors' dashboard: review queue, zones at every level, coverage, and the map."""

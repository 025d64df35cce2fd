"""Demo data for ``make run``: real regions, a few real agencies and units, demo users."""

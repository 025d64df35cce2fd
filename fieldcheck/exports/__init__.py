"""Exports: results, findings and inspections as CSV or XLSX, streamed, for the API and the pages.

``services`` builds an export (its columns and one SELECT over the same visibility rules as the
lists it mirrors: ``zoning.reading.results_query``, ``inspections.visibility.listed_inspections``)
and reads its rows through a server-side cursor; ``writers`` turns rows into CSV or XLSX bytes a
chunk at a time; ``download`` makes the streamed HTTP response both shells return.
"""

"""A unit's and an agency's report: the data a supervisor reads on the unit page and sends to the
head of an agency as a PDF (score breakdown, findings with citations and sanctions, photos as
evidence, recommendations). Above publication, below the web (``.importlinter``)."""

"""Methodology versions that admins manage (issue 16): upload a draft, publish it with an
effective date, list and read versions. The API, the CLI and the web pages are thin shells over
``services``; the registry (fieldcheck.catalogue.registry) is what scoring reads."""

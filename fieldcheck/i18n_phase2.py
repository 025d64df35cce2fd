"""TEMPORARY (issue 12, phase 2): msgids of messages still raised as plain English text.

Four modules were being restructured while the messages became catalogues, so their call sites
could not change yet: ``evidence/services.py``, ``review/services.py``,
``inspections/services.py`` and ``zoning/``. Listing their texts here puts them in the catalogue
now: a constant text they raise is translated by the one error handler (``i18n.localize`` looks
the msgid up), and the msgids with placeholders below are the ones their call sites are to use
(``_("...", name=value)``), with their Indonesian texts already in ``id/messages.po``.

Delete this module once those call sites use ``_``/``N_`` themselves (``make translations``
then finds the same msgids there). Nothing imports it; pybabel reads it (babel.cfg).
"""

from fieldcheck.i18n import N_

PENDING = (
    # inspections/services.py
    N_(
        "This submission_id is already used by another surveyor's checklist; every checklist "
        "needs its own submission_id."
    ),
    N_(
        "This submission_id was already used for a different checklist; a corrected checklist "
        "needs a new submission_id."
    ),
    N_(
        "%(indicators)s says the service standard is published: list, for each service "
        "observed, the components it shows (or answer no)."
    ),
    N_("Unknown indicator for methodology %(methodology)s."),
    N_("This indicator is derived from posted_standards; do not answer it directly."),
    N_("Must be a whole number from %(low)s to %(high)s, or na."),
    N_("Must be one of %(values)s."),
    N_('Missing answer (send "na" when the item does not apply).'),
    N_("Unknown unit."),
    N_("Unknown methodology."),
    N_("Methodology is %(status)s, not published."),
    N_("Unknown service code."),
    N_("%(unit)s does not offer this service (it offers %(services)s)."),
    N_("This unit is outside your region."),
    N_("Methodology %(methodology)s was not in effect on %(visit_on)s."),
    # review/services.py
    N_("An inspection that is %(status)s cannot be given the decision %(decision)s."),
    N_("More than %(limit)s inspections match; narrow the filter."),
    N_("No such inspection within the filter."),
    N_("No such inspection of yours."),
    N_("The corrected inspection is of another unit."),
    N_("Only a returned inspection can be corrected; this is %(status)s."),
    N_("This finding is already withdrawn."),
    N_("No such photo of yours: upload it first (POST /api/v1/photos)."),
    N_("This objection was already decided: %(status)s."),
    # evidence/services.py
    N_("Send the photo as multipart/form-data, field file."),
    N_("The upload ended before it was complete."),
    N_("The multipart body has no 'file' part."),
    N_("The upload is incomplete or malformed."),
    N_("Too many pixels."),
    N_("The image has too many pixels (possible decompression bomb)."),
    N_("The file is not a JPEG, PNG or WebP image."),
    N_("The image is truncated or corrupt."),
    N_("The image cannot be decoded: %(reason)s"),
    N_("This indicator has no missing photo evidence to waive."),
    N_("No missing evidence for this indicator."),
    N_(
        "Photo %(photo)s is also used on other visits (%(visits)s); %(hidden)s of them are "
        "outside your region."
    ),
    N_("Photo %(photo)s is also used on other visits; %(hidden)s of them are outside your region."),
    N_(
        "The same surveyor was recorded on another visit, outside your region, %(distance_m)s "
        "away, %(minutes)s minutes apart; that cannot be travelled."
    ),
    # zoning/
    N_("No such zoning run."),
    N_("Run #%(run_id)s is %(state)s: only a succeeded run has results."),
    N_("This unit has no result in the run (no approved, scored inspection in the period)."),
    N_("The run's methodology is no longer loaded."),
    N_("Must be an object {indicator_code: weight}."),
    N_("Must be a number of 0 or more."),
    N_("At least one indicator needs a weight above 0."),
    N_("No published methodology is loaded."),
    N_("Methodology is %(status)s; only a dry run may use it."),
    N_("Draft weights are only allowed in a dry run (what-if)."),
    N_("Unknown region code."),
    N_("Must be a year between 2000 and 2100."),
    N_("Methodology %(methodology)s is in effect %(first)s-%(last)s, not %(year)s."),
    N_("Methodology %(methodology)s is in effect from %(first)s, not %(year)s."),
    N_("This region is outside your scope."),
    N_("A dry run (what-if) can never be published."),
    N_("Only a succeeded run can be published; this one is %(state)s."),
    N_(
        "The process running it stopped (its lease expired or its process is gone); "
        "nothing was published."
    ),
    N_("skipped: another run holds the lease (run #%(run_id)s)"),
)

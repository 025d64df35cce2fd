"""OpenRosa endpoints under ``/openrosa/key/<token>/``: form list, form, manifest, media files,
submission. ODK Collect is given ``<base>/openrosa/key/<token>`` as its server URL (ODK Central's
app-user style): the token is a surveyor's API token, checked by ``user_for_token``.

Every answer carries ``X-OpenRosa-Version: 1.0`` and ``Date``; every error is an
``OpenRosaResponse`` whose message the phone shows, in Indonesian unless the device asks for
English (Collect sends the device language in ``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from fieldcheck.auth.models import User
from fieldcheck.auth.services import check_role, user_for_token
from fieldcheck.catalogue.registry import get_registry, local_today
from fieldcheck.clock import utcnow
from fieldcheck.errors import ApiError
from fieldcheck.evidence.upload import MULTIPART_OVERHEAD
from fieldcheck.extensions import db
from fieldcheck.http import load
from fieldcheck.i18n import LANGUAGES, N_, _, localize
from fieldcheck.inspections.services import find_by_submission, submit
from fieldcheck.interviews import services as interviews
from fieldcheck.openrosa import attachments
from fieldcheck.openrosa.interviews import InterviewSubmission, interview_body, interview_form
from fieldcheck.openrosa.media import md5, media_file
from fieldcheck.openrosa.multipart import read_parts
from fieldcheck.openrosa.responses import OPENROSA_VERSION, XML_TYPE, form_list, manifest, message
from fieldcheck.openrosa.submission import in_phone_words, parse, question
from fieldcheck.openrosa.xform import Form, forms_in_force, same_methodology_version
from schemas.inspections import InspectionSubmissionSchema
from schemas.interviews import InterviewSubmissionSchema

bp = Blueprint("openrosa", __name__)

#: Roles that collect data: a supervisor's token lists no forms (403).
COLLECTORS = ("surveyor", "admin")
#: Device language -> answer language; a phone that names neither gets Indonesian.
DEFAULT_LANGUAGE = "id"
SUBMISSION = InspectionSubmissionSchema()
INTERVIEW = InterviewSubmissionSchema()


@bp.before_request
def _language() -> None:
    # Pages and phones speak to Indonesians: Indonesian unless the device asks for English.
    g.page_language = request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


class OpenRosaErrors:
    """Errors of every request under ``/openrosa/`` as OpenRosa messages, also those no view of
    this blueprint saw: the router's 404/405, a failed commit's 409/503, a rate limit's 429
    (registered by the factory with ``errors.add_error_renderer``, before the web app's pages)."""

    @staticmethod
    def wants_page() -> bool:
        """True for a request to an OpenRosa URL."""
        return request.path.startswith("/openrosa/")

    @staticmethod
    def render(code: str, message: Any, details: dict[str, Any], status: int) -> Response:
        """The error as the OpenRosa XML Collect shows, with the OpenRosa headers."""
        if not g.get("page_language"):  # the router refused it: no before_request ran
            _language()
        return _openrosa_headers(_api_error(ApiError(code, message, details, status)))


@bp.after_request
def _openrosa_headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    response.headers["Date"] = http_date(utcnow())
    # The OpenRosa spec asks for it; the messages follow the phone's language.
    response.headers["Content-Language"] = g.get("page_language", DEFAULT_LANGUAGE)
    response.vary.add("Accept-Language")
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    """Every refusal as an OpenRosa error message, naming the questions that are wrong."""
    g.error_code = exc.code  # for the request's metrics (fieldcheck.observability)
    text = localize(exc.message)
    fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
    if isinstance(fields, dict) and fields:
        problems = [
            f"{question(path)}: {' '.join(localize(m) for m in _messages(messages))}"
            for path, messages in sorted(fields.items())
        ]
        text = f"{text} " + "; ".join(problems)
    return message(text, "error", exc.status)


def _messages(messages: Any) -> list[Any]:
    if isinstance(messages, list):
        return messages
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _messages(value)]
    return [messages]


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = {413: "payload_too_large", 404: "not_found", 405: "method_not_allowed"}.get(
        status, "internal_error" if status >= 500 else "bad_request"
    )
    return _api_error(ApiError(code, status=status))


def _collector(token: str) -> User:
    """The surveyor or admin holding ``token`` (401 unknown or revoked, 403 other roles)."""
    return check_role(user_for_token(token), COLLECTORS)


def _base(token: str) -> str:
    """The server URL the phone was given, absolute (PUBLIC_BASE_URL when configured)."""
    root = (current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")
    return root + url_for(".form_list_", token=token)[: -len("/formList")]


def _forms() -> list[Form]:
    """One form per methodology id: its version in force today (issue 16)."""
    registry = get_registry()
    today = local_today()
    current = {mid: registry.in_force(mid, today) for mid in registry.all_versions}
    return forms_in_force({mid: m for mid, m in current.items() if m is not None}, today)


def _form(form_id: str) -> Form:
    for form in _forms():
        if form.form_id == form_id:
            return form
    raise ApiError("not_found", N_("No such form; download the forms again."))


@bp.get("/key/<token>/formList")
def form_list_(token: str):
    """The OpenRosa Form List API: each methodology in force as a form."""
    _collector(token)
    base = _base(token)
    wanted = request.args.get("formID")
    return form_list(
        [
            {
                "formID": form.form_id,
                "name": form.title,
                "version": form.version,
                "hash": form.md5,
                "downloadUrl": f"{base}/forms/{form.form_id}.xml",
                "manifestUrl": f"{base}/forms/{form.form_id}/manifest",
            }
            for form in _forms()
            if wanted is None or form.form_id == wanted
        ]
    )


@bp.get("/key/<token>/forms/<form_id>.xml")
def form_xml(token: str, form_id: str):
    """The XForm itself."""
    _collector(token)
    return Response(_form(form_id).xml, content_type=XML_TYPE)


@bp.get("/key/<token>/forms/<form_id>/manifest")
def form_manifest(token: str, form_id: str):
    """The form's media files (units and services of the user's region), with their hashes."""
    user = _collector(token)
    form = _form(form_id)
    base = _base(token)
    return manifest(
        [
            {
                "filename": name,
                "hash": md5(media_file(name, user) or b""),
                "downloadUrl": f"{base}/forms/{form.form_id}/attachments/{name}",
            }
            for name in form.media
        ]
    )


@bp.get("/key/<token>/forms/<form_id>/attachments/<filename>")
def form_media(token: str, form_id: str, filename: str):
    """One media file of the form, for this user."""
    user = _collector(token)
    form = _form(form_id)
    data = media_file(filename, user) if filename in form.media else None
    if data is None:
        raise ApiError("not_found", N_("No such media file."))
    return Response(data, content_type="text/csv; charset=utf-8")


def _accept_length() -> int:
    """The largest submission body taken: the XML (the JSON cap) plus one photo of the largest
    size taken, plus multipart framing. Collect splits bigger submissions over several POSTs."""
    config = current_app.config
    return config["MAX_CONTENT_LENGTH"] + config["PHOTO_MAX_BYTES"] + MULTIPART_OVERHEAD


#: The methods of the submission URL (the ``Allow`` of its 405).
SUBMISSION_METHODS = "HEAD, POST"


@bp.route("/key/<token>/submission", methods=["GET", "HEAD", "POST"])
def submission(token: str):
    """HEAD: 204 with the accepted body size. POST: one submission (XML plus attachments), run
    through the JSON API's intake; 201 once stored, for a first send and an identical resend.
    GET (someone opening the URL in a browser): an OpenRosa 405 saying what the URL is for."""
    if request.method == "GET":
        # Routed here rather than left to the router, whose 405 is the site's HTML page.
        response = _api_error(
            ApiError(
                "method_not_allowed",
                N_(
                    "This address takes checklists sent by ODK Collect (POST); it cannot be "
                    "opened in a browser."
                ),
            )
        )
        response.headers["Allow"] = SUBMISSION_METHODS
        return response
    user = _collector(token)
    limit = _accept_length()
    if request.method == "HEAD":
        return Response(status=204, headers={"X-OpenRosa-Accept-Content-Length": str(limit)})
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            "payload_too_large",
            _("The submission is larger than %(limit)s bytes.", limit=limit),
            {"max_bytes": limit},
        )
    # A phone on a poor signal may take minutes to send its photos: no transaction is held open
    # meanwhile (nothing is written yet but the token's last-use touch, redone next time).
    db.session.rollback()
    config = current_app.config
    parts = read_parts(
        request.stream,
        request.content_type,
        config["MAX_CONTENT_LENGTH"],
        config["PHOTO_MAX_BYTES"],
    )
    try:
        assert parts.xml is not None  # noqa: S101 - read_parts refuses a body without it
        return _store(parts.xml, parts.files, user)
    finally:
        parts.discard()


def _published_version_of(parsed: Any) -> int | None:
    """The methodology version a submission's form version was made from (``form_version``:
    ``<methodology version>.<hash>``), when that version is published and is not the one in
    force today; else None."""
    head = (parsed.version or "").split(".", 1)[0]
    if not head.isdigit() or len(head) > 6:
        return None
    registry = get_registry()
    named = registry.methodology(parsed.methodology.id, int(head))
    if named is None or named.status != "published":
        return None
    # The version in force today is what intake picks anyway: the body stays as it was before
    # versions existed, so a resend of a submission stored then keeps its payload hash.
    today = registry.in_force(parsed.methodology.id, local_today())
    return None if today is not None and today.version == named.version else named.version


def _store(xml: bytes, files: dict, user: User) -> Response:
    """Parse, check the form version, run intake, take the attachments; the answer."""
    target = interview_form(xml, get_registry().methodologies)
    if target is not None:
        # An interview form: the interview API's intake (no photos are taken with it).
        return _store_interview(target, user)
    parsed = parse(xml, get_registry().methodologies)
    # The methodology version the form was made from, when published: the visit is scored with
    # it (an earlier version filled in before the phone fetched the new form too), and intake
    # checks it was in force on the visit date (issue 16). Set on a resend as well, so that
    # the body (and its hash) is the same as the first time.
    sent = _published_version_of(parsed)
    if sent is not None:
        parsed.body["methodology_version"] = sent
    known = find_by_submission(parsed.submission_id)
    if known is None:
        # A resend of a stored submission is taken whatever forms are current (its late photos
        # must still arrive); a new one must come from the methodology version in force. A form
        # only regenerated (same methodology version, new wording or layout from this code) is
        # still taken: the intake validates every answer anyway, and a phone's unsent forms
        # are not lost to a server upgrade.
        _check_form_version(parsed.form_id, parsed.version, earlier_published=sent is not None)
    try:
        # The schema's refusals too (a service repeat with no service chosen), not only intake's.
        data = load(SUBMISSION, parsed.body)
        outcome = submit(parsed.body, data, user)
    except ApiError as exc:
        if exc.code == "validation_failed":
            details = in_phone_words(exc.details, parsed.methodology, parsed.body)
            raise ApiError(exc.code, exc.message, details, exc.status) from None
        _own_conflict(exc, "inspection_id")
        raise
    inspection = outcome.inspection
    if outcome.created:
        attachments.expect(inspection.id, parsed.photos)
    # A replay is the sender's own inspection (intake refuses anyone else's instanceID): its
    # photos are taken even if the surveyor's region changed since.
    attachments.receive(inspection, files, user)
    missing = attachments.awaited(inspection.id)
    if missing:
        text = _(
            "Inspection %(id)s received; still awaiting the photos %(files)s.",
            id=inspection.id,
            files=", ".join(missing),
        )
    else:
        text = _("Inspection %(id)s received in full.", id=inspection.id)
    return message(text, "submit_success", 201)


def _own_conflict(exc: ApiError, key: str) -> None:
    """Raise the phone's words for the sender's own instance sent again with other answers
    (intake names the stored record under ``key``); another surveyor's instanceID keeps
    intake's message, which names nothing of theirs."""
    if exc.code == "submission_conflict" and key in exc.details:
        raise ApiError(
            "submission_conflict",
            N_(
                "This form was already sent with different answers; a sent form cannot "
                "be changed by sending it again."
            ),
            exc.details,
        ) from None


def _check_form_version(form_id: str, version: str | None, earlier_published: bool = False) -> None:
    """A new submission must come from a form still served, of the methodology version in
    force, or (``earlier_published``) of an earlier published version, which intake then checks
    was in force on the visit date."""
    current = next((f for f in _forms() if f.form_id == form_id), None)
    if current is None:
        raise ApiError(
            "conflict",
            _(
                "The form %(form_id)s is no longer in use; download the forms again.",
                form_id=form_id,
            ),
        )
    if not earlier_published and not same_methodology_version(version, current.version):
        raise ApiError(
            "conflict",
            _(
                "This answer was made with form version %(sent)s; the current version is "
                "%(current)s. Download the forms again and fill in a new form.",
                sent=version or "-",
                current=current.version,
            ),
        )


def _store_interview(sub: InterviewSubmission, user: User) -> Response:
    """An interview form's submission through the interview API's load and intake."""
    body = interview_body(sub)
    if interviews.find_by_submission(body["submission_id"]) is None:
        _check_form_version(sub.form_id, sub.version)
    data = load(INTERVIEW, body)
    try:
        outcome = interviews.submit(body, data, user)
    except ApiError as exc:
        _own_conflict(exc, "interview_id")
        raise
    return message(
        _("Interview record %(id)s received.", id=outcome.interview.id), "submit_success", 201
    )

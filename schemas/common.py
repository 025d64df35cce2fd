"""Schemas and fields shared by several resources."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from fieldcheck.http import MAX_ID
from fieldcheck.i18n import N_, _

#: marshmallow's own messages, as msgids with named placeholders (marshmallow formats them with
#: ``.format(**values)``, which renders a ``Template`` through the catalogue in the request's
#: language). ``install_messages`` puts them in place of the English defaults.
FIELD_MESSAGES: dict[type, dict[str, str]] = {
    Schema: {"type": N_("Invalid input type."), "unknown": N_("Unknown field.")},
    fields.Field: {
        "required": N_("Missing data for required field."),
        "null": N_("Field may not be null."),
        "validator_failed": N_("Invalid value."),
    },
    fields.Boolean: {"invalid": N_("Not a valid boolean.")},
    fields.Date: {
        "invalid": N_("Not a valid date."),
        "format": N_('"%(input)s" cannot be formatted as a date.'),
    },
    fields.Decimal: {"special": N_("Special numeric values (nan or infinity) are not permitted.")},
    fields.Email: {"invalid": N_("Not a valid email address.")},
    fields.Enum: {"unknown": N_("Must be one of: %(choices)s.")},
    fields.Float: {"special": N_("Special numeric values (nan or infinity) are not permitted.")},
    fields.IP: {"invalid_ip": N_("Not a valid IP address.")},
    fields.IPInterface: {"invalid_ip_interface": N_("Not a valid IP interface.")},
    fields.IPv4: {"invalid_ip": N_("Not a valid IPv4 address.")},
    fields.IPv4Interface: {"invalid_ip_interface": N_("Not a valid IPv4 interface.")},
    fields.IPv6: {"invalid_ip": N_("Not a valid IPv6 address.")},
    fields.IPv6Interface: {"invalid_ip_interface": N_("Not a valid IPv6 interface.")},
    fields.Integer: {"invalid": N_("Not a valid integer.")},
    fields.List: {"invalid": N_("Not a valid list.")},
    fields.Mapping: {"invalid": N_("Not a valid mapping type.")},
    fields.Nested: {"type": N_("Invalid type.")},
    fields.Number: {"invalid": N_("Not a valid number."), "too_large": N_("Number too large.")},
    fields.String: {
        "invalid": N_("Not a valid string."),
        "invalid_utf8": N_("Not a valid utf-8 string."),
    },
    fields.TimeDelta: {
        "invalid": N_("Not a valid period of time."),
        "format": N_("%(input)r cannot be formatted as a timedelta."),
    },
    fields.Tuple: {"invalid": N_("Not a valid tuple.")},
    fields.Url: {"invalid": N_("Not a valid URL.")},
    fields.UUID: {"invalid_uuid": N_("Not a valid UUID.")},
    fields.DateTime.__mro__[1]: {  # marshmallow's _TemporalField: Date, DateTime, Time
        "invalid": N_("Not a valid %(obj_type)s."),
        "invalid_awareness": N_("Not a valid %(awareness)s %(obj_type)s."),
        "format": N_('"%(input)s" cannot be formatted as a %(obj_type)s.'),
    },
}

#: The validators' messages (class attribute -> msgid).
VALIDATOR_MESSAGES: dict[type, dict[str, str]] = {
    validate.ContainsNoneOf: {
        "default_message": N_("One or more of the choices you made was in: %(values)s.")
    },
    validate.ContainsOnly: {
        "default_message": N_("One or more of the choices you made was not in: %(choices)s.")
    },
    validate.Email: {"default_message": N_("Not a valid email address.")},
    validate.Equal: {"default_message": N_("Must be equal to %(other)s.")},
    validate.Length: {
        "message_min": N_("Shorter than minimum length %(min)s."),
        "message_max": N_("Longer than maximum length %(max)s."),
        "message_all": N_("Length must be between %(min)s and %(max)s."),
        "message_equal": N_("Length must be %(equal)s."),
    },
    validate.NoneOf: {"default_message": N_("Invalid input.")},
    validate.OneOf: {"default_message": N_("Must be one of: %(choices)s.")},
    validate.Predicate: {"default_message": N_("Invalid input.")},
    validate.Regexp: {"default_message": N_("String does not match expected pattern.")},
    validate.URL: {"default_message": N_("Not a valid URL.")},
}

#: ``validate.Range`` builds its sentence from pieces at construction (English, before any
#: request); whole sentences translate, so the message is chosen here by which bounds are set
#: and whether each is inclusive.
RANGE_MESSAGES: dict[tuple[str, bool, bool], str] = {
    ("min", True, True): N_("Must be greater than or equal to %(min)s."),
    ("min", False, True): N_("Must be greater than %(min)s."),
    ("max", True, True): N_("Must be less than or equal to %(max)s."),
    ("max", True, False): N_("Must be less than %(max)s."),
    ("all", True, True): N_(
        "Must be greater than or equal to %(min)s and less than or equal to %(max)s."
    ),
    ("all", False, False): N_("Must be greater than %(min)s and less than %(max)s."),
    ("all", True, False): N_("Must be greater than or equal to %(min)s and less than %(max)s."),
    ("all", False, True): N_("Must be greater than %(min)s and less than or equal to %(max)s."),
}


def _range_error(self: validate.Range, value: Any, message: str) -> str:
    if self.error:
        return self.error.format(input=value, min=self.min, max=self.max)
    bounds = "min" if self.max is None else "max" if self.min is None else "all"
    inclusive = (
        self.min_inclusive or bounds == "max",
        self.max_inclusive or bounds == "min",
    )
    template = RANGE_MESSAGES[(bounds, *inclusive)]
    return template.format(input=value, min=self.min, max=self.max)


def install_messages() -> None:
    """Give marshmallow's fields and validators the catalogue's messages (idempotent): field
    paths and codes stay marshmallow's, only the sentences change."""
    Schema._default_error_messages = dict(FIELD_MESSAGES[Schema])
    for cls, messages in FIELD_MESSAGES.items():
        if cls is not Schema:
            cls.default_error_messages = dict(messages)
    for cls, messages in VALIDATOR_MESSAGES.items():
        for name, message in messages.items():
            setattr(cls, name, message)
    validate.Range._format_error = _range_error  # type: ignore[method-assign]


install_messages()


class StrictSchema(Schema):
    """Refuses unknown fields: a typo on a phone must be an error, not silently dropped data."""

    class Meta:
        unknown = RAISE


#: Text a person must write (a name, a comment, an objection): whitespace alone says nothing.
NOT_BLANK = validate.Regexp(r"\S", error=N_("Must not be blank."))


def id_field(**kwargs: Any) -> fields.Integer:
    """An id in a body or query string: a whole number from 1 to ``MAX_ID``."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Timestamp(fields.AwareDateTime):
    """An ISO-8601 time with an offset (``AwareDateTime``), in years 2 to 9998.

    Times are converted to UTC and to the units' zones (up to 14 hours either way); at the edges
    of Python's range (0001-01-01, 9999-12-31) that conversion overflows.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 2 <= result.year <= 9998:
            raise ValidationError(_("Must be a time between the years 2 and 9998."))
        return result


class StrictFloat(fields.Float):
    """A JSON number: ``"12.5"`` (text) and ``true`` are refused, as strict integers are."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(_("Not a valid number."))
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only: ``"yes"`` or ``1`` for a flag is a client bug."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise ValidationError(_("Must be true or false."))
        return value


class PageArgsSchema(StrictSchema):
    """``page`` and ``per_page`` query arguments."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1))

    def load(self, data: Any, **kwargs: Any) -> Any:
        """Load, then fill ``per_page`` from the app's default."""
        result = super().load(data, **kwargs)
        if result.get("per_page") is None:
            result["per_page"] = current_app.config["PER_PAGE_DEFAULT"] if has_app_context() else 50
        return result


class KeyedDict(fields.Dict):
    """A Dict whose value errors are reported at ``field.<key>.<subfield>``.

    marshmallow nests Dict errors as ``{key: {"value": ...}}``; phones and people want the path
    ``answers.SP-01.value`` that api.md shows, so the extra level is folded away here.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as exc:
            messages = exc.messages
            if isinstance(messages, dict):
                folded: dict[str, Any] = {}
                for key, errs in messages.items():
                    if isinstance(errs, dict):
                        merged: Any = {}
                        if "key" in errs:
                            merged = {"_key": errs["key"]}
                        if "value" in errs:
                            if isinstance(errs["value"], dict):
                                merged.update(errs["value"])
                            else:
                                merged = (
                                    errs["value"]
                                    if not merged
                                    else {**merged, "_value": errs["value"]}
                                )
                        folded[key] = merged
                    else:
                        folded[key] = errs
                raise ValidationError(folded) from None
            raise


class DisplayDateTime(fields.DateTime):
    """A stored UTC time shown with the offset of ``DISPLAY_TIMEZONE`` (WIB by default).

    api.md: the server stores UTC and shows Asia/Jakarta where a person reads it. Rendering every
    time the same way also makes a replayed response identical to the first one.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "Asia/Jakarta"
        return value.astimezone(ZoneInfo(name)).isoformat()

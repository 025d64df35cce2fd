"""Schemas and fields shared by several resources."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from fieldcheck.http import MAX_ID


class StrictSchema(Schema):
    """Refuses unknown fields: a typo on a phone must be an error, not silently dropped data."""

    class Meta:
        unknown = RAISE


#: Text a person must write (a name, a comment, an objection): whitespace alone says nothing.
NOT_BLANK = validate.Regexp(r"\S", error="Must not be blank.")


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
            raise ValidationError("Must be a time between the years 2 and 9998.")
        return result


class StrictFloat(fields.Float):
    """A JSON number: ``"12.5"`` (text) and ``true`` are refused, as strict integers are."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a valid number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only: ``"yes"`` or ``1`` for a flag is a client bug."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
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
        from zoneinfo import ZoneInfo

        name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else "Asia/Jakarta"
        return value.astimezone(ZoneInfo(name)).isoformat()

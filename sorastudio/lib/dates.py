"""Date fields in the studio's format for the page's language, the same as every date the studio shows.

A native ``<input type="date">`` shows its date in the browser's locale (11/03/2026) whatever the page's
language, so the field is a text input showing "3 Nov 2026" (2026年11月3日 in Chinese); the form's DateField
reads that and ISO (DATE_INPUT_FORMATS in sorastudio/formats). static/studio/dates.js adds a calendar
button that opens a native date picker and writes the date it gives back in the same format.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext


class StudioDateInput(forms.DateInput):
    """A text input showing the date as DATE_FORMAT writes it, with what dates.js needs to do the same."""

    input_type = "text"

    def format_value(self, value: Any) -> str | None:
        day = as_date(value)
        if day is not None:
            return formats.date_format(day, "DATE_FORMAT")
        # Not a date: shown as typed, beside the message that says so.
        return str(value) if value else None

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        day = as_date(value)
        context["widget"]["attrs"].update(
            {
                "data-date-text": formats.get_format("DATE_FORMAT"),
                "data-months": json.dumps(month_names(), ensure_ascii=False),
                "data-iso": day.isoformat() if day else "",
                "autocomplete": "off",
                "size": 14,
            }
        )
        return context


# The day the fields' message gives as an example: its day and month cannot be taken for one another.
EXAMPLE = date(2026, 11, 3)


class StudioDateField(forms.DateField):
    """A DateField that reads ISO and the language's format and, refused, says what it takes."""

    widget = StudioDateInput

    def to_python(self, value: Any) -> date | None:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "invalid":
                raise
            example = formats.date_format(EXAMPLE, "DATE_FORMAT")
            raise ValidationError(
                gettext("Enter a valid date, such as %(example)s or %(iso)s.")
                % {"example": example, "iso": EXAMPLE.isoformat()},
                code="invalid",
            ) from None


def as_date(value: Any) -> date | None:
    """A date, or what was typed for one when it is readable (ISO or the language's format), else None."""
    if isinstance(value, date):
        return value
    if not value:
        return None
    try:
        return forms.DateField().to_python(str(value))
    except ValidationError:
        return None


def month_names() -> list[str]:
    """The months as DATE_FORMAT's "M" writes them in the page's language, for the script to do the same."""
    return [formats.date_format(date(2000, month, 1), "M") for month in range(1, 13)]

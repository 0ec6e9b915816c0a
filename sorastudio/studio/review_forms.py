"""The forms of a video's review: asking for one, deciding, and comments, each pinned to a moment of the
video when wanted. They only read what was typed; the rules of the review are the models' verbs."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sorastudio.lib import drawing as drawings

from .models import DECISIONS, Generation, ReviewState
from .templatetags.studio_tags import clock

MAX_COMMENT = 4000
# Videos side by side on the compare page, at most.
COMPARE_MOST = 4
# 0:03, 1:05.5 or 3 (seconds): people write the first two, review.js sends seconds with decimals.
MOMENT = re.compile(r"^(?:(\d+):)?(\d+(?:[.,]\d+)?)$")
# A player paused at its very end reports a moment a little past the stored length.
END_SLACK = 0.5

TOO_LONG = _("A comment can be at most %(limit_value)s characters long (this one has %(show_value)s).")


def parse_moment(text: str) -> float | None:
    """A moment of a video as people write it, in seconds; None when nothing was written."""
    text = text.strip()
    if not text:
        return None
    match = MOMENT.match(text)
    if match is None:
        raise ValidationError(gettext("Write the moment as minutes:seconds (0:03) or in seconds (3)."))
    minutes, seconds = match.groups()
    value = float(seconds.replace(",", "."))
    if minutes is not None and value >= 60:
        raise ValidationError(gettext("Write the moment as minutes:seconds (0:03) or in seconds (3)."))
    return int(minutes or 0) * 60 + value


class PinnedForm(forms.Form):
    """A form with a moment of `generation` it can be pinned to (empty: not pinned)."""

    at_seconds = forms.CharField(required=False, max_length=20)

    def __init__(self, data: Any, *, generation: Generation) -> None:
        super().__init__(data)
        self.generation = generation

    def clean_at_seconds(self) -> float | None:
        moment = parse_moment(self.cleaned_data["at_seconds"])
        length = self.generation.video_duration
        if moment is None or length is None:
            return moment
        if moment > length + END_SLACK:
            raise ValidationError(gettext("The video lasts only %(length)s.") % {"length": clock(length)})
        return round(min(moment, length), 2)


class ReviewForm(PinnedForm):
    """Ask for a review (of one reviewer, or of any), or decide with a comment."""

    action = forms.ChoiceField(
        choices=[("ask", _("Ask for a review")), *((d.value, d.label) for d in DECISIONS)],
        error_messages={"required": _("Choose approve, request changes or reject.")},
    )
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, error_messages={"max_length": TOO_LONG})
    reviewer = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Ask one of the team's reviewers.")},
    )
    # The review state the person saw when they decided: a decision made meanwhile is not overwritten.
    seen = forms.ChoiceField(choices=ReviewState.choices, required=False)

    def __init__(self, data: Any, *, generation: Generation) -> None:
        super().__init__(data, generation=generation)
        self.fields["reviewer"].queryset = generation.possible_reviewers()  # type: ignore[attr-defined]


class CommentForm(PinnedForm):
    """A comment, or a reply to the comment `parent` names."""

    body = forms.CharField(
        max_length=MAX_COMMENT,
        error_messages={"required": _("Write the comment first."), "max_length": TOO_LONG},
    )
    parent = forms.UUIDField(required=False)
    # The vectors draw.js made on the player's frame, as JSON (empty: nothing drawn).
    drawing = forms.CharField(required=False, strip=True)

    def clean_drawing(self) -> drawings.Drawing | None:
        try:
            return drawings.parse(self.cleaned_data["drawing"])
        except drawings.DrawingError as error:
            raise ValidationError(str(error)) from None

"""The forms of client review links: the team's form that makes one, and the guest's password, comment and
verdict. They only read what was typed; the rules are ReviewLink's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LINK_DAYS, LINK_DAYS_MOST, ClientVerdict
from .models.sharing import GUEST_NAME_MOST
from .review_forms import MAX_COMMENT, TOO_LONG, PinnedForm


class ReviewLinkForm(forms.Form):
    """What the person sharing chooses: the videos come from the gallery's selection or the video's page."""

    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        required=False,
        help_text=_("Optional: the client sees it, and it names the link in the team's list."),
    )
    message = forms.CharField(
        label=_("Message to the client"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    days = forms.IntegerField(
        label=_("Works for (days)"),
        min_value=1,
        max_value=LINK_DAYS_MOST,
        initial=LINK_DAYS,
        error_messages={
            "min_value": _("A link works for 1 to 30 days."),
            "max_value": _("A link works for 1 to 30 days."),
        },
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Optional: the client types it before seeing anything. Send it separately from the link."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "share_%s")
        super().__init__(*args, **kwargs)


class UnlockForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autofocus": True}),
    )


class GuestForm(PinnedForm):
    """The guest's name, given with each comment and verdict (and remembered in their session)."""

    name = forms.CharField(
        max_length=GUEST_NAME_MOST,
        error_messages={"required": _("Write your name, so the team knows who it is from.")},
    )


class GuestCommentForm(GuestForm):
    body = forms.CharField(
        max_length=MAX_COMMENT,
        error_messages={"required": _("Write the comment first."), "max_length": TOO_LONG},
    )


class GuestVerdictForm(GuestForm):
    decision = forms.ChoiceField(
        choices=ClientVerdict.Decision.choices,
        error_messages={"required": _("Choose approve or request changes.")},
    )
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, error_messages={"max_length": TOO_LONG})

"""The forms of a team's page and of the invitation link: new accounts, invitations, the team's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from .models import Invitation, Membership, Team


class SignUpForm(UserCreationForm[User]):
    """A new account: a username, an optional email address (for notifications) and a password that
    Django's password validators accept, typed twice."""

    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("Optional: notifications are mailed here when the studio can send mail."),
    )

    class Meta:
        model = User
        fields = ("username", "email")
        field_classes = {"username": UsernameField}


class AccountForm(SignUpForm):
    """An account an admin makes for someone, who can log in with it at once."""

    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.CREATOR
    )

    # The team's page holds several forms: ids of their own, and the cursor in none of them on arrival.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "account_%s")
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)


class InvitationForm(forms.ModelForm[Invitation]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "invitation_%s")
        super().__init__(*args, **kwargs)

    class Meta:
        model = Invitation
        fields = ("role", "note")
        labels = {"role": _("Role"), "note": _("Note")}
        help_texts = {"note": _("Optional: who the link is for, to recognise it in the list.")}


class TeamSettingsForm(forms.ModelForm[Team]):
    trash_days = forms.IntegerField(
        label=_("Days in the trash"),
        min_value=1,
        max_value=365,
        help_text=_("How long a deleted video can still be restored (1 to 365 days)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "team_%s")
        super().__init__(*args, **kwargs)

    class Meta:
        model = Team
        fields = ("name", "trash_days")
        labels = {"name": _("Team name")}
        error_messages = {"name": {"unique": _("Another team already has this name.")}}

    def clean_name(self) -> str:
        # Names differing only in case would look like one team in the switcher.
        name: str = self.cleaned_data["name"].strip()
        if Team.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another team already has this name."))
        return name


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, to tell it apart later: “nightly batch”, “CMS”."),
    )
    days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for a token that works until it is revoked."),
    )

"""Teams: switching, members and roles, invitations, team settings, personal API tokens, and notifications."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .decorators import admin_required
from .forms import AccountForm, ApiTokenForm, InvitationForm, SignUpForm, TeamSettingsForm
from .http import StudioRequest
from .middleware import switch_team
from .models import ApiToken, AuditEntry, Invitation, Membership, MembershipError, Team

AUDIT_PAGE = 50


# --- Switching teams ------------------------------------------------------------------------------------


@require_POST
def switch(request: StudioRequest) -> HttpResponseBase:
    chosen = request.POST.get("team", "")
    membership = next((m for m in request.memberships if str(m.team_id) == chosen), None)
    if membership is None:
        raise Http404("not one of your teams")
    if membership.team_id != request.team.pk:
        switch_team(request, membership.team)
        messages.success(request, _("You are now working in %(team)s.") % {"team": membership.team.name})
    return redirect("studio:index")


# --- Members, invitations, settings (admins) -------------------------------------------------------------


def _members_context(request: StudioRequest, new: str = "", **forms: Any) -> dict[str, Any]:
    """The team's page; `new` names the invitation just made, to show it first and ready to copy."""
    invitations = Invitation.objects.still_open().filter(team=request.team).select_related("created_by")
    # How many teams each member is in: an admin may deactivate only an account this team alone holds.
    memberships = (
        request.team.memberships.select_related("user")
        .annotate(teams=Count("user__memberships"))
        .order_by(Lower("user__username"))
    )
    return {
        "memberships": memberships,
        "audit": _audit(request),
        "invitations": [
            (invitation, _join_link(request, invitation), str(invitation.pk) == new)
            for invitation in invitations
        ],
        "roles": Membership.Role.choices,
        "account_form": forms.get("account_form") or AccountForm(),
        "invitation_form": forms.get("invitation_form") or InvitationForm(),
        "settings_form": forms.get("settings_form") or TeamSettingsForm(instance=request.team),
    }


class AuditFilters(forms.Form):
    person = forms.ChoiceField(label=_lazy("Person"), required=False)
    kind = forms.ChoiceField(
        label=_lazy("What"), required=False, choices=[("", _lazy("Everything")), *AuditEntry.Kind.choices]
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "audit_%s")
        super().__init__(*args, **kwargs)
        # Everyone the trail names, members or not (someone removed is still named in it).
        entries = AuditEntry.objects.for_team(team)
        names = set(entries.exclude(actor_name="").values_list("actor_name", flat=True).distinct())
        names |= set(entries.exclude(subject_name="").values_list("subject_name", flat=True).distinct())
        people = sorted(names, key=str.lower)
        self.fields["person"].choices = [("", _("Anyone")), *((name, name) for name in people)]  # type: ignore[attr-defined]


def _audit(request: StudioRequest) -> dict[str, Any]:
    """The team's trail of admin actions, newest first, by person and kind, a page at a time."""
    filters = AuditFilters(request.GET or None, team=request.team)
    entries = AuditEntry.objects.for_team(request.team)
    if filters.is_valid():
        if filters.cleaned_data["person"]:
            entries = entries.about(filters.cleaned_data["person"])
        if filters.cleaned_data["kind"]:
            entries = entries.filter(kind=filters.cleaned_data["kind"])
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("new", None)
    return {"filters": filters, "page": page, "query": query.urlencode()}


def _join_link(request: HttpRequest, invitation: Invitation) -> str:
    """The whole address to hand over: under the studio's public address when one is configured, otherwise
    the one the admin is using."""
    path = reverse("studio:join", args=[invitation.token])
    return settings.PUBLIC_BASE_URL + path if settings.PUBLIC_BASE_URL else request.build_absolute_uri(path)


def _members_page(request: StudioRequest, status: int = 200, new: str = "", **forms: Any) -> TemplateResponse:
    context = _members_context(request, new, **forms)
    return TemplateResponse(request, "studio/members.html", context, status=status)


def _members_section(request: StudioRequest, section: str, new: str = "") -> HttpResponseBase:
    """After a change: htmx gets the changed section again (its messages inside it), a plain form the page."""
    if request.htmx:
        context = {**_members_context(request, new), "fragment": True}
        return TemplateResponse(request, f"studio/members.html#{section}", context)
    query = f"?new={new}" if new else ""
    return redirect(f"{reverse('studio:members')}{query}#{section}")


@require_GET
@admin_required
def members(request: StudioRequest) -> HttpResponseBase:
    """The team's page: members and their roles, invitation links, new accounts and the team's settings."""
    return _members_page(request, new=request.GET.get("new", ""))


@require_POST
@admin_required
def member(request: StudioRequest, key: str) -> HttpResponseBase:
    """Change a member's role (action=role), take them out of the team (action=remove), or also close their
    account, when only this team holds it (action=deactivate)."""
    membership = get_object_or_404(request.team.memberships.select_related("user"), key=key)
    name = membership.user.get_username()
    action, role = request.POST.get("action"), request.POST.get("role", "")
    try:
        if action == "remove":
            membership.remove(by=request.user)
            messages.success(request, _("%(name)s is no longer in the team.") % {"name": name})
        elif action == "deactivate":
            membership.deactivate_account(by=request.user)
            messages.success(
                request,
                _("%(name)s’s account is deactivated: they are out of the team and can no longer log in.")
                % {"name": name},
            )
        elif action == "role" and role in Membership.Role.values:
            membership.change_role(role, by=request.user)
            label = Membership.Role(role).label
            messages.success(request, _("%(name)s’s role is now %(role)s.") % {"name": name, "role": label})
        else:
            messages.error(request, _("Choose one of the roles, or remove the member."))
    except MembershipError as exc:
        messages.error(request, str(exc))
    # An admin who stepped down or out (a removed membership has no pk) can no longer see this page.
    if membership.user_id == request.user.pk and (membership.pk is None or not membership.is_admin):
        if request.htmx:
            return HttpResponseClientRedirect(reverse("studio:index"))
        return redirect("studio:index")
    return _members_section(request, "members")


@require_POST
@admin_required
def create_account(request: StudioRequest) -> HttpResponseBase:
    """An account made by an admin, in this team with the chosen role: the person can log in at once."""
    form = AccountForm(request.POST)
    if not form.is_valid():
        return _members_page(request, status=400, account_form=form)
    with transaction.atomic():
        user = form.save()
        Membership.objects.create(team=request.team, user=user, role=form.cleaned_data["role"])
        AuditEntry.record(
            AuditEntry.Kind.ACCOUNT_CREATED,
            team=request.team,
            actor=request.user,
            subject=user,
            role=form.cleaned_data["role"],
        )
    messages.success(
        request,
        _("The account %(name)s is ready: they can log in now with the password you chose.")
        % {"name": user.get_username()},
    )
    return redirect(f"{reverse('studio:members')}#members")


@require_POST
@admin_required
def invite(request: StudioRequest) -> HttpResponseBase:
    """A new invitation link for a role, shown on the team's page to copy and send."""
    form = InvitationForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            context = {**_members_context(request, invitation_form=form), "fragment": True}
            return TemplateResponse(request, "studio/members.html#invitations", context)
        return _members_page(request, status=400, invitation_form=form)
    invitation = form.save(commit=False)
    invitation.team = request.team
    invitation.created_by = request.user
    with transaction.atomic():
        invitation.save()
        AuditEntry.record(
            AuditEntry.Kind.INVITATION_MADE,
            team=request.team,
            actor=request.user,
            role=invitation.role,
            note=invitation.note,
        )
    messages.success(request, _("The invitation link is ready: copy it and send it to the person joining."))
    return _members_section(request, "invitations", new=str(invitation.pk))


@require_POST
@admin_required
def revoke_invitation(request: StudioRequest, pk: str) -> HttpResponseBase:
    invitation = get_object_or_404(Invitation, pk=pk, team=request.team)
    if invitation.revoke(by=request.user):
        messages.success(request, _("The link is revoked: it no longer works."))
    else:
        messages.error(request, _("This link was already used or revoked."))
    return _members_section(request, "invitations")


@require_POST
@admin_required
def team_settings(request: StudioRequest) -> HttpResponseBase:
    # A copy of the team: an invalid form must not rename the team shown in the top bar.
    before = Team.objects.get(pk=request.team.pk)
    form = TeamSettingsForm(request.POST, instance=Team.objects.get(pk=request.team.pk))
    if not form.is_valid():
        return _members_page(request, status=400, settings_form=form)
    changes = {
        str(form.fields[name].label or name): [getattr(before, name), form.cleaned_data[name]]
        for name in form.changed_data
        if getattr(before, name) != form.cleaned_data[name]
    }
    with transaction.atomic():
        form.save()
        if changes:
            AuditEntry.record(
                AuditEntry.Kind.SETTINGS_CHANGED, team=request.team, actor=request.user, changes=changes
            )
    messages.success(request, _("The team’s settings are saved."))
    return redirect(f"{reverse('studio:members')}#settings")


# --- Personal API tokens ---------------------------------------------------------------------------------


def _api_tokens_context(request: StudioRequest, form: ApiTokenForm) -> dict[str, Any]:
    """One's own tokens in this team; for an admin also every member's (names and prefixes, never values).
    Tokens of people no longer in the team are left out: they no longer work."""
    tokens = ApiToken.objects.filter(team=request.team).select_related("user", "revoked_by")
    others = (
        tokens.exclude(user=request.user).filter(user__memberships__team=request.team)
        if request.membership.is_admin
        else tokens.none()
    )
    return {
        "form": form,
        "own": tokens.filter(user=request.user),
        "others": others.order_by(Lower("user__username"), "-created_at"),
    }


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: StudioRequest) -> HttpResponseBase:
    """Make a token (its secret is in this one answer, never stored, never shown again) and list tokens."""
    if request.method == "GET":
        return TemplateResponse(
            request, "studio/api_tokens.html", _api_tokens_context(request, ApiTokenForm())
        )
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        context = _api_tokens_context(request, form)
        return TemplateResponse(request, "studio/api_tokens.html", context, status=400)
    days = form.cleaned_data["days"]
    expires_at = timezone.now() + timedelta(days=days) if days else None
    token, secret = ApiToken.issue(
        request.user, request.team, form.cleaned_data["name"], expires_at, by=request.user
    )
    context = {**_api_tokens_context(request, ApiTokenForm()), "made": token, "secret": secret}
    return TemplateResponse(request, "studio/api_tokens.html", context)


@require_POST
def revoke_api_token(request: StudioRequest, pk: str) -> HttpResponseBase:
    token = get_object_or_404(ApiToken.objects.select_related("team", "user"), pk=pk, team=request.team)
    if not token.may_revoke(request.membership):
        raise PermissionDenied("only the token's owner or the team's admins can revoke it")
    if token.revoke(by=request.user):
        messages.success(
            request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": token.name}
        )
    else:
        messages.error(request, _("This token was already revoked."))
    return redirect("studio:api_tokens")


# --- Joining by an invitation link ------------------------------------------------------------------------


def _link_gone(request: HttpRequest, status: int) -> TemplateResponse:
    # Says nothing about the team: whoever holds a dead link learns nothing from it.
    return TemplateResponse(request, "studio/join.html", {"gone": True}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponseBase:
    """An invitation link. Someone logged in joins with one button; someone new makes an account here."""
    invitation = Invitation.objects.select_related("team").filter(token=token).first()
    if invitation is None:
        return _link_gone(request, 404)
    if not invitation.is_open:
        return _link_gone(request, 410)
    context: dict[str, Any] = {"invitation": invitation}
    if request.user.is_authenticated:
        context["already"] = invitation.team.memberships.filter(user=request.user).first()
        if request.method == "GET" or context["already"]:
            return TemplateResponse(request, "studio/join.html", context)
        if invitation.accept(request.user) is None:
            return _link_gone(request, 410)
        return _welcome(request, invitation)

    form = SignUpForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        context["form"] = form
        return TemplateResponse(request, "studio/join.html", context, status=400 if form.is_bound else 200)
    with transaction.atomic():
        user = form.save()
        if invitation.accept(user) is None:
            # Used by someone else in the meantime: no account without a team.
            transaction.set_rollback(True)
            return _link_gone(request, 410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return _welcome(request, invitation)


def _welcome(request: HttpRequest, invitation: Invitation) -> HttpResponseBase:
    switch_team(request, invitation.team)
    messages.success(
        request,
        _("Welcome to %(team)s! You joined as %(role)s.")
        % {"team": invitation.team.name, "role": invitation.get_role_display()},
    )
    return redirect("studio:index")

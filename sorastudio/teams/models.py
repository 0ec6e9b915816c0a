"""The people: teams, their members and roles, the links that invite someone in, and the audit trail of
what each team's admins did. Knows no other app: the studio, billing and the pipeline build on it."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # How long a deleted video waits in the trash, where an admin can restore it, before it is purged.
    trash_days = models.PositiveSmallIntegerField(default=30)
    # The team made for someone who belonged to none (say, made with createsuperuser). Found by this key,
    # never by name: a name can be taken by, or renamed to, anyone.
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_team",
    )

    class Meta:
        # The tables keep the names they had when these models were the studio app's (see migrations/).
        db_table = "studio_team"

    def __str__(self) -> str:
        return self.name


class MembershipError(ValueError):
    """A change to a team's members that cannot be made, with the reason in words for the admin."""


class Membership(models.Model):
    class Role(models.TextChoices):
        CREATOR = "creator", _("Creator")
        REVIEWER = "reviewer", _("Reviewer")
        ADMIN = "admin", _("Admin")

    # Names a membership in the admins' URLs: not sequential, so nothing can be guessed from it.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CREATOR)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "studio_membership"
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    # Each role can do what the one before it can: creator < reviewer < admin.
    @property
    def can_review(self) -> bool:
        return self.role in (self.Role.REVIEWER, self.Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    def may_delete(self, made_by_id: int | None) -> bool:
        """Whether this member may move a video made by `made_by_id` to the trash: its maker or an admin."""
        return self.is_admin or made_by_id == self.user_id

    def change_role(self, role: str, *, by: User | None = None) -> None:
        """Give this member another role. A team always keeps an admin: the last one stays one."""
        with transaction.atomic():
            if role != self.Role.ADMIN:
                self._keep_an_admin()
            before = Membership.objects.filter(pk=self.pk).values_list("role", flat=True).first()
            Membership.objects.filter(pk=self.pk).update(role=role)
            if before is not None and before != role:
                AuditEntry.record(
                    AuditEntry.Kind.ROLE_CHANGED,
                    team=self.team,
                    actor=by,
                    subject=self.user,
                    before=before,
                    after=role,
                )
        self.role = role

    def remove(self, *, by: User | None = None) -> None:
        """Take this person out of the team (their videos stay the team's, and their jobs already asked for
        carry on: the team paid for them), unless they are its last admin."""
        with transaction.atomic():
            self._keep_an_admin()
            AuditEntry.record(
                AuditEntry.Kind.MEMBER_REMOVED, team=self.team, actor=by, subject=self.user, role=self.role
            )
            self.delete()

    def deactivate_account(self, *, by: User | None) -> None:
        """Take the person out of the team and close their account: they can no longer log in, and every
        session they have open ends. Only for an account that this team alone holds: someone also in
        another team is that team's too, so they are only removed from this one."""
        user_model = type(self.user)
        with transaction.atomic():
            # Their row is locked, so a second admin deactivating them at the same time waits and then finds
            # the membership gone.
            person = user_model.objects.select_for_update().get(pk=self.user_id)
            name = person.get_username()
            if person.pk == getattr(by, "pk", None):
                raise MembershipError(gettext("You cannot deactivate your own account."))
            if person.is_staff or person.is_superuser:
                raise MembershipError(
                    gettext("%(name)s runs the studio: only Django's admin can deactivate their account.")
                    % {"name": name}
                )
            if Membership.objects.filter(user=person).exclude(team_id=self.team_id).exists():
                raise MembershipError(
                    gettext(
                        "%(name)s is also in another team, so their account is not this team's alone: "
                        "remove them from this team instead."
                    )
                    % {"name": name}
                )
            if not Membership.objects.filter(pk=self.pk).exists():
                raise MembershipError(gettext("%(name)s is no longer in the team.") % {"name": name})
            self._keep_an_admin()
            user_model.objects.filter(pk=person.pk).update(is_active=False)
            AuditEntry.record(
                AuditEntry.Kind.ACCOUNT_DEACTIVATED, team=self.team, actor=by, subject=person, role=self.role
            )
            self.delete()
            end_sessions(person)

    def _keep_an_admin(self) -> None:
        # The team's admins are locked, so two admins demoting each other at once cannot both succeed.
        admins = list(
            Membership.objects.select_for_update()
            .filter(team_id=self.team_id, role=self.Role.ADMIN)
            .values_list("pk", flat=True)
        )
        if admins == [self.pk]:
            raise MembershipError(
                gettext("%(name)s is the team's last admin: make someone else an admin first.")
                % {"name": self.user.get_username()}
            )


def end_sessions(user: User) -> int:
    """Delete every session logged in as `user`. Sessions in the database are read one by one (they are not
    indexed by person); with any other session store an inactive account's session is refused anyway by
    the authentication backend at its next request."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    from django.contrib.sessions.models import Session

    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


def _invitation_expiry() -> Any:
    return timezone.now() + timedelta(days=7)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def still_open(self) -> InvitationQuerySet:
        """Links that would still work: not used, not revoked, not expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A link an admin hands to someone to join the team with a role. It works once, for a week."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.CREATOR)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        db_table = "studio_invitation"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.team} as {self.role}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

    def accept(self, user: User) -> Membership | None:
        """Join `user` to the team, once: a second use of the link (or a used, revoked or expired one)
        gets None. Someone already in the team keeps the role they have."""
        now = timezone.now()
        with transaction.atomic():
            won = (
                Invitation.objects.filter(
                    pk=self.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
                ).update(accepted_by=user, accepted_at=now)
                == 1
            )
            if not won:
                return None
            membership, _created = Membership.objects.get_or_create(
                team=self.team, user=user, defaults={"role": self.role}
            )
        self.accepted_by, self.accepted_at = user, now
        return membership

    def revoke(self, *, by: User | None = None) -> bool:
        """Close the link before anyone uses it; False when it was already used or revoked."""
        now = timezone.now()
        with transaction.atomic():
            won = (
                Invitation.objects.filter(
                    pk=self.pk, accepted_at__isnull=True, revoked_at__isnull=True
                ).update(revoked_at=now)
                == 1
            )
            if won:
                AuditEntry.record(
                    AuditEntry.Kind.INVITATION_REVOKED,
                    team=self.team,
                    actor=by,
                    role=self.role,
                    note=self.note,
                )
        if won:
            self.revoked_at = now
        return won


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def for_team(self, team: Team) -> AuditQuerySet:
        """What a team's admins see: their team's entries and the studio-wide ones (pauses and resumes)."""
        return self.filter(Q(team=team) | Q(team__isnull=True))

    def about(self, username: str) -> AuditQuerySet:
        """Entries where this person acted or was acted on."""
        return self.filter(Q(actor_name=username) | Q(subject_name=username))


class AuditEntry(models.Model):
    """Who did what to a team, and when: one row per admin action, written in the transaction of the
    action itself, so there is never an action without its entry or an entry for an action undone.

    A pause or resume of a video service is the whole studio's (the upstream account is the
    installation's): it is one entry with no team, shown to every team's admins, rather than a copy per
    team, which would miss the teams made afterwards and count one resume many times in Django's admin.
    The names are copied, so the trail still reads after an account is deleted."""

    class Kind(models.TextChoices):
        ROLE_CHANGED = "role_changed", _("Role changed")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_CREATED = "account_created", _("Account made")
        INVITATION_MADE = "invitation_made", _("Invitation made")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        SETTINGS_CHANGED = "settings_changed", _("Team settings changed")
        PRICE_CHANGED = "price_changed", _("Price changed")
        LIMIT_SET = "limit_set", _("Limit set")
        LIMIT_REMOVED = "limit_removed", _("Limit removed")
        CREDIT_GRANTED = "credit_granted", _("Credit granted")
        SERVICE_PAUSED = "service_paused", _("Video service paused")
        SERVICE_RESUMED = "service_resumed", _("Video service resumed")
        REVIEW_LINK_MADE = "review_link_made", _("Client link made")
        REVIEW_LINK_REVOKED = "review_link_revoked", _("Client link revoked")
        API_TOKEN_MADE = "api_token_made", _("API token made")
        API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")

    # No team: a studio-wide action, shown to every team's admins.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    # No actor: the studio itself (a pause on the upstream's answer) or the command line.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_name = models.CharField(max_length=150, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditQuerySet.as_manager()

    class Meta:
        db_table = "studio_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["team", "-created_at"], name="audit_by_team")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_name or '-'} at {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(
        cls,
        kind: str,
        *,
        team: Team | None,
        actor: User | None = None,
        subject: User | None = None,
        **details: Any,
    ) -> AuditEntry:
        """Write the entry; the caller holds the action's transaction."""
        return cls.objects.create(
            team=team,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor.get_username() if actor is not None and actor.pk else "",
            kind=kind,
            subject=subject,
            subject_name=subject.get_username() if subject is not None else "",
            details=details,
        )

    @property
    def studio_wide(self) -> bool:
        return self.team_id is None


# Recognisable in a config file or a leaked paste (and by secret scanners); the rest is the secret itself.
API_TOKEN_PREFIX = "sst_"  # noqa: S105 (a label, not a secret)
# What a list shows to tell tokens apart: the recognisable prefix and a few characters, nothing usable.
SHOWN_PREFIX_LENGTH = len(API_TOKEN_PREFIX) + 6
# A token used many times a second is written to at most once a minute.
LAST_USED_EVERY = timedelta(minutes=1)


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def working(self) -> ApiTokenQuerySet:
        """Tokens that would let a request in now. Read from the membership and the account each time, so a
        member removed or deactivated loses their tokens at once, with no write to the tokens."""
        now = timezone.now()
        still_member = Membership.objects.filter(team_id=OuterRef("team_id"), user_id=OuterRef("user_id"))
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            Exists(still_member),
            revoked_at__isnull=True,
            user__is_active=True,
        )

    def authenticate(self, secret: str) -> ApiToken | None:
        """The working token with this secret, or None. Looked up by its hash: no secret is compared
        character by character, and the database never holds one."""
        if not secret.startswith(API_TOKEN_PREFIX):
            return None
        token = self.working().select_related("user", "team").filter(digest=api_token_digest(secret)).first()
        if token is not None:
            token.mark_used()
        return token


class ApiToken(models.Model):
    """A personal token for scripts: it acts as its person, with their role, within one team. Only its
    hash is kept: the secret is shown once, when it is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=SHOWN_PREFIX_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(
        cls,
        user: User,
        team: Team,
        name: str,
        expires_at: Any = None,
        *,
        by: User | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token for `user` in `team`, and its secret: the only time the secret exists outside the
        caller's hands."""
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with transaction.atomic():
            token = cls.objects.create(
                team=team,
                user=user,
                name=name,
                digest=api_token_digest(secret),
                prefix=secret[:SHOWN_PREFIX_LENGTH],
                expires_at=expires_at,
            )
            AuditEntry.record(
                AuditEntry.Kind.API_TOKEN_MADE,
                team=team,
                actor=by,
                subject=user,
                name=name,
                prefix=token.prefix,
            )
        return token, secret

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def may_revoke(self, membership: Membership) -> bool:
        """Its owner, or an admin of its team."""
        if membership.team_id != self.team_id:
            return False
        return membership.user_id == self.user_id or membership.is_admin

    def revoke(self, by: User | None = None) -> bool:
        """Stop the token working; False when it was already revoked (by someone else at the same time)."""
        now = timezone.now()
        with transaction.atomic():
            won = (
                ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                    revoked_at=now, revoked_by=by
                )
                == 1
            )
            if won:
                AuditEntry.record(
                    AuditEntry.Kind.API_TOKEN_REVOKED,
                    team=self.team,
                    actor=by,
                    subject=self.user,
                    name=self.name,
                    prefix=self.prefix,
                )
        if won:
            self.revoked_at, self.revoked_by = now, by
        return won

    def mark_used(self) -> None:
        now = timezone.now()
        recent = Q(last_used_at__isnull=False, last_used_at__gt=now - LAST_USED_EVERY)
        if ApiToken.objects.filter(pk=self.pk).exclude(recent).update(last_used_at=now):
            self.last_used_at = now

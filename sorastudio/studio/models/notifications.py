"""Notifications under the bell: what each kind says, and the queue task that mails them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from sorastudio.lib import capabilities
from sorastudio.teams.models import Team

from .states import ReviewState

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    from .generation import Generation

logger = logging.getLogger(__name__)


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user: User) -> NotificationQuerySet:
        """A person's notifications from the teams they still belong to: the news of a team they have left
        is no longer theirs to read."""
        return self.filter(user=user, team__memberships__user=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should know about, shown under the bell (and mailed when SMTP is set up)."""

    class Kind(models.TextChoices):
        READY = "ready", _("Video ready")
        FAILED = "failed", _("Video failed")
        REVIEW_REQUESTED = "review_requested", _("Review requested")
        REVIEW_RETURNED = "review_returned", _("Review came back")
        COMMENT = "comment", _("New comment")
        QUOTA_WARNING = "quota_warning", _("Quota nearly used")
        PROVIDER_PAUSED = "provider_paused", _("Video service out of credit")
        CLIENT_COMMENT = "client_comment", _("A client commented")
        CLIENT_VERDICT = "client_verdict", _("A client decided")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notifications")
    generation = models.ForeignKey(
        "studio.Generation", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set by the one mail task that sent it, so a task run twice mails once.
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user}"

    @property
    def text(self) -> str:
        """The notification as one sentence in the reader's language, naming who and which video."""
        if self.kind == self.Kind.REVIEW_RETURNED:
            sentence = REVIEW_RETURNED_TEXTS.get(self.detail.get("decision", ""), REVIEW_RETURNED_TEXT)
        elif self.kind == self.Kind.CLIENT_VERDICT:
            sentence = CLIENT_VERDICT_TEXTS.get(self.detail.get("decision", ""), CLIENT_VERDICT_TEXT)
        else:
            sentence = NOTIFICATION_TEXTS.get(self.kind, self.get_kind_display())
        prompt = " ".join(self.generation.prompt.split()) if self.generation else ""
        actor = self.actor.get_username() if self.actor else gettext("Someone")
        # A few words of the prompt; a language without spaces between words is cut by length.
        prompt = Truncator(Truncator(prompt).words(8)).chars(60)
        service = capabilities.PROVIDERS.get(self.detail.get("provider", ""), gettext("A video service"))
        # A client has no account: the name they gave, and the title of the link they came through.
        guest = self.detail.get("guest", "")
        link = self.detail.get("link", "") or gettext("a client link")
        values = {"actor": actor, "prompt": prompt, "service": service, "guest": guest, "link": link}
        return str(sentence) % values

    @property
    def url(self) -> str:
        """Where the notification leads: its video, or the gallery once the video is in the trash."""
        if self.generation is not None and self.generation.deleted_at is None:
            return self.generation.get_absolute_url()
        return reverse("studio:index")

    @classmethod
    def send(
        cls,
        users: Iterable[User | None],
        *,
        team: Team,
        kind: str,
        generation: Generation | None = None,
        actor: User | None = None,
        **detail: Any,
    ) -> list[Notification]:
        """One notification per person (never to the person who caused it), mailed after the
        transaction commits when an SMTP server is configured."""
        recipients = {user.pk: user for user in users if user is not None and user != actor}
        created: list[Notification] = Notification.objects.bulk_create(
            [
                Notification(
                    user=user, team=team, kind=kind, generation=generation, actor=actor, detail=detail
                )
                for user in recipients.values()
            ]
        )
        if created and settings.EMAIL_HOST:
            ids = [str(n.pk) for n in created]
            transaction.on_commit(lambda: _email_later(ids))
        return created


NOTIFICATION_TEXTS: dict[str, StrOrPromise] = {
    Notification.Kind.READY: _("Your video is ready: “%(prompt)s”"),
    Notification.Kind.FAILED: _("Your video failed: “%(prompt)s”"),
    Notification.Kind.REVIEW_REQUESTED: _("%(actor)s asked you to review “%(prompt)s”"),
    Notification.Kind.COMMENT: _("%(actor)s commented on “%(prompt)s”"),
    Notification.Kind.QUOTA_WARNING: _("%(actor)s went past a quota's warning level with “%(prompt)s”"),
    Notification.Kind.PROVIDER_PAUSED: _(
        "%(service)s is out of credit: its videos wait until the studio's operator tops it up and resumes it"
    ),
    Notification.Kind.CLIENT_COMMENT: _("%(guest)s (client, via “%(link)s”) commented on “%(prompt)s”"),
}
CLIENT_VERDICT_TEXT = _("%(guest)s (client, via “%(link)s”) gave a verdict on “%(prompt)s”")
CLIENT_VERDICT_TEXTS: dict[str, StrOrPromise] = {
    ReviewState.APPROVED: _("%(guest)s (client, via “%(link)s”) approved “%(prompt)s”"),
    ReviewState.CHANGES_REQUESTED: _("%(guest)s (client, via “%(link)s”) asked for changes to “%(prompt)s”"),
}
REVIEW_RETURNED_TEXT = _("%(actor)s reviewed your video “%(prompt)s”")
REVIEW_RETURNED_TEXTS: dict[str, StrOrPromise] = {
    ReviewState.APPROVED: _("%(actor)s approved your video “%(prompt)s”"),
    ReviewState.CHANGES_REQUESTED: _("%(actor)s asked for changes to your video “%(prompt)s”"),
    ReviewState.REJECTED: _("%(actor)s rejected your video “%(prompt)s”"),
}


def _email_later(ids: list[str]) -> None:
    async_task(email_notifications, ids, group="email_notifications")


def email_notifications(ids: list[str]) -> None:
    """Mail each notification to its person, if they gave an address. Each is claimed by a conditional
    UPDATE first, so a task delivered twice mails once; a mail that fails is logged and not retried (the
    notification is still under the bell)."""
    waiting = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exclude(user__email="")
    # Only to people still in the team, as the bell (`for_user`): a client link, say, outlives its maker's
    # place in the team, and its news is no longer theirs.
    waiting = waiting.filter(team__memberships__user=models.F("user"))
    for notification in waiting.select_related("user", "team", "generation", "actor"):
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True)
        if not claimed.update(emailed_at=timezone.now()):
            continue
        try:
            send_mail(
                subject=f"{notification.team.name}: {notification.text}",
                message=_email_body(notification),
                from_email=None,
                recipient_list=[notification.user.email],
            )
        except Exception as exc:  # any SMTP or network failure: the bell still has it
            # The class name only: an SMTP error can quote the server's reply to our login.
            logger.warning("mailing notification %s failed: %s", notification.pk, exc.__class__.__name__)


def _email_body(notification: Notification) -> str:
    lines = [notification.text]
    if settings.PUBLIC_BASE_URL:
        path = reverse("studio:open_notification", args=[notification.pk])
        lines += ["", gettext("Open it in the studio: %(link)s") % {"link": settings.PUBLIC_BASE_URL + path}]
    lines += ["", "-- ", gettext("Sora Studio, team %(team)s") % {"team": notification.team.name}]
    return "\n".join(lines) + "\n"

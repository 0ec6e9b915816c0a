"""What videos cost, the limits a team sets on spending, and the ledger that makes those limits hold.

- Prices are in credits, one for every combination the capability table allows: a default worked out from the
  model, the length and the sharpness, which a team's admins can override (PriceOverride).
- Quotas limit a member, or the whole team, per calendar day or month in TIME_ZONE: a soft threshold (a
  warning) and a hard cap (a refusal).
- The ledger is append-only. Submitting reserves each job's price; the upstream making the video charges it;
  any other end releases it. A job has at most one reservation and one outcome (unique constraints), so a
  verb run twice changes nothing. Used = reserved minus released in the period; remaining = cap + grants -
  used, never below zero. A charge or release counts in the period of its reservation, not on the day it
  happens.
- Reservations are checked and written while holding a lock on the team's row (SQLite's IMMEDIATE
  transactions already let one writer in at a time), so simultaneous submits are checked one after another
  and never overspend a limit.
- When the upstream says the studio's own account is out of credit, the provider is paused (ProviderPause):
  jobs wait in the queue, uncharged, until an admin resumes it.

"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from sorastudio.lib import capabilities
from sorastudio.studio.models import Generation, Notification, State
from sorastudio.teams.models import AuditEntry, Membership, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# Credits per second of video by model, for the standard sizes and for the sharper ones (HD, 1024x1792):
# in step with the upstream list prices, where sora-2-pro costs three times sora-2 and its sharper sizes five.
CREDITS_PER_SECOND: dict[str, tuple[int, int]] = {"sora-2": (1, 2), "sora-2-pro": (3, 5)}
SHARP_SIZES = frozenset({"large", "1024x1792", "1792x1024"})
MAX_PRICE = 100_000
# The soft threshold a quota gets when none is given: a warning at 80 % of the cap.
DEFAULT_SOFT_SHARE = 0.8


# --- Prices -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Combination:
    """One priced kind of video: what the capability table lets a creator choose."""

    provider: str
    version: str
    model: str
    size: str
    quality: str
    duration: int

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> Combination:
        provider = str(params.get("provider") or capabilities.ACEDATA)
        # Sora2API has no versions: a job made with the model's default "1.0" is still priced as Sora2API's.
        version = str(params.get("version") or "") if capabilities.versions_for(provider) else ""
        return cls(
            provider=provider,
            version=version,
            model=str(params.get("model") or ""),
            size=str(params.get("size") or ""),
            quality=str(params.get("quality") or ""),
            duration=int(params.get("duration") or 0),
        )

    @property
    def key(self) -> str:
        """Names this combination in a form field."""
        return "/".join(
            (self.provider, self.version, self.model, self.size, self.quality, str(self.duration))
        )

    def fields(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "version": self.version,
            "model": self.model,
            "size": self.size,
            "quality": self.quality,
            "duration": self.duration,
        }

    @property
    def sharp(self) -> bool:
        return self.size in SHARP_SIZES or self.quality == "hd"

    @property
    def default_credits(self) -> int:
        standard, sharp = CREDITS_PER_SECOND.get(self.model, max(CREDITS_PER_SECOND.values()))
        return self.duration * (sharp if self.sharp else standard)

    @property
    def family(self) -> str:
        """The service, version and model, as in "AceDataCloud · Version 1.0 · Sora 2 Pro"."""
        parts = [capabilities.provider_label(self.provider)]
        if self.version:
            parts.append(str(capabilities.VERSIONS.get(self.version, self.version)))
        parts.append(capabilities.MODELS.get(self.model, self.model))
        return pgettext("between the settings in a line", " · ").join(parts)

    @property
    def shape(self) -> str:
        """The size or quality, as the form names it."""
        if self.quality:
            return str(capabilities.QUALITY_LABELS.get(self.quality, self.quality))
        return str(capabilities.SIZE_LABELS.get(self.size, self.size))


def combinations() -> list[Combination]:
    """Every combination the capability table allows, in its order."""
    found = []
    for cap in capabilities.CAPABILITIES.values():
        for size in cap.sizes or ("",):
            for quality in cap.qualities or ("",):
                for duration in cap.durations:
                    found.append(Combination(cap.provider, cap.version, cap.model, size, quality, duration))
    return found


@dataclass(frozen=True)
class PriceRow:
    combination: Combination
    override: int | None

    @property
    def credits(self) -> int:
        return self.combination.default_credits if self.override is None else self.override


class PriceOverride(models.Model):
    """A team's own price, in credits, for one combination; without one the default applies."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="price_overrides")
    provider = models.CharField(max_length=20)
    version = models.CharField(max_length=10, blank=True)
    model = models.CharField(max_length=40)
    size = models.CharField(max_length=20, blank=True)
    quality = models.CharField(max_length=10, blank=True)
    duration = models.PositiveSmallIntegerField()
    credits = models.PositiveIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The tables keep the names they had when these were the studio app's models (see migrations/).
        db_table = "studio_priceoverride"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "provider", "version", "model", "size", "quality", "duration"],
                name="one_price_per_combination",
            )
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits for {self.model} {self.duration}s in {self.team_id}"

    @classmethod
    def price_of(cls, team: Team, params: Mapping[str, Any]) -> int:
        """The price in credits of one video with these parameters, for this team."""
        combination = Combination.of(params)
        override = (
            cls.objects.filter(team=team, **combination.fields()).values_list("credits", flat=True).first()
        )
        return combination.default_credits if override is None else override

    @classmethod
    def price_list(cls, team: Team) -> list[PriceRow]:
        overrides = {
            Combination.of(row).key: row["credits"]
            for row in cls.objects.filter(team=team).values(
                "provider", "version", "model", "size", "quality", "duration", "credits"
            )
        }
        return [PriceRow(c, overrides.get(c.key)) for c in combinations()]

    @classmethod
    def set_price(cls, team: Team, combination: Combination, credits: int | None, *, by: User | None) -> None:
        """Override the default (None: back to the default)."""
        with transaction.atomic():
            rows = cls.objects.filter(team=team, **combination.fields())
            before = rows.values_list("credits", flat=True).first()
            if credits is None:
                rows.delete()
            else:
                cls.objects.update_or_create(
                    team=team, **combination.fields(), defaults={"credits": credits, "updated_by": by}
                )
            if before != credits:
                AuditEntry.record(
                    AuditEntry.Kind.PRICE_CHANGED,
                    team=team,
                    actor=by,
                    what=f"{combination.family} · {combination.shape} · {combination.duration} s",
                    key=combination.key,
                    before=before,
                    credits=credits,
                )


# --- Quotas -----------------------------------------------------------------------------------------------


class Period(models.TextChoices):
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly")


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The first day of the period holding `day`, and the first day after it."""
    if period == Period.DAILY:
        return day, day + timedelta(days=1)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


class Quota(models.Model):
    """A limit on what a member (or, with no user, the whole team) may reserve in a day or a month."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="quotas")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    period = models.CharField(max_length=10, choices=Period.choices)
    hard_cap = models.PositiveIntegerField(help_text=_("Credits: a submit that would go past it is refused."))
    soft_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Credits: going past it shows a warning and tells the admins.")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "studio_quota"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user", "period"],
                condition=Q(user__isnull=False),
                name="one_member_quota_per_period",
            ),
            models.UniqueConstraint(
                fields=["team", "period"], condition=Q(user__isnull=True), name="one_team_quota_per_period"
            ),
            models.CheckConstraint(
                condition=Q(soft_limit__isnull=True) | Q(soft_limit__lte=models.F("hard_cap")),
                name="soft_limit_within_cap",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.team
        return f"{self.period} limit of {self.hard_cap} for {who}"

    @classmethod
    def set_limit(
        cls,
        team: Team,
        user: User | None,
        period: str,
        hard_cap: int,
        soft_limit: int | None = None,
        *,
        by: User | None = None,
    ) -> Quota:
        """Set (or change) a limit; the soft threshold defaults to 80 % of the cap."""
        if soft_limit is None:
            soft_limit = int(hard_cap * DEFAULT_SOFT_SHARE)
        if soft_limit > hard_cap:
            raise ValueError(gettext("The warning level cannot be above the limit."))
        with transaction.atomic():
            quota, _created = cls.objects.update_or_create(
                team=team,
                user=user,
                period=period,
                defaults={"hard_cap": hard_cap, "soft_limit": soft_limit, "updated_by": by},
            )
            AuditEntry.record(
                AuditEntry.Kind.LIMIT_SET,
                team=team,
                actor=by,
                subject=user,
                period=str(period),
                credits=hard_cap,
                soft_limit=soft_limit,
            )
        return quota

    @classmethod
    def clear(cls, team: Team, user: User | None, period: str, *, by: User | None = None) -> bool:
        with transaction.atomic():
            deleted, _by_model = cls.objects.filter(team=team, user=user, period=period).delete()
            if deleted:
                AuditEntry.record(
                    AuditEntry.Kind.LIMIT_REMOVED, team=team, actor=by, subject=user, period=str(period)
                )
        return deleted > 0


# --- The ledger -------------------------------------------------------------------------------------------


class LedgerEntry(models.Model):
    """One line of the credit ledger. Lines are only ever added: the balances are sums over them."""

    class Kind(models.TextChoices):
        RESERVE = "reserve", _("Reserved")
        CHARGE = "charge", _("Charged")
        RELEASE = "release", _("Released")
        GRANT = "grant", _("Granted")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ledger")
    # Whose credits: the job's creator, or the member a grant is for; no one for a grant to the whole team.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    # Kept when the video is purged from the trash: what was spent stays spent.
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger"
    )
    credits = models.PositiveIntegerField()
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=40, blank=True)
    # The day the credits count against: a reservation's own day, which its charge or release keeps.
    counts_on = models.DateField()
    # Who did it: the person who submitted, the admin who granted; no one for the pipeline's own steps.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "studio_ledgerentry"
        ordering = ["created_at", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["generation"], condition=Q(kind="reserve"), name="one_reservation_per_job"
            ),
            models.UniqueConstraint(
                fields=["generation"], condition=Q(kind__in=["charge", "release"]), name="one_outcome_per_job"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "counts_on"], name="ledger_team_day"),
            models.Index(fields=["team", "user", "counts_on"], name="ledger_member_day"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.credits} for {self.team_id} on {self.counts_on}"

    @classmethod
    def reserve(cls, generation: Generation, *, by: User) -> LedgerEntry:
        """Set aside a new job's price, or raise QuotaExceeded. Call inside the transaction that creates the
        job: the team's row stays locked until it commits."""
        credits = PriceOverride.price_of(generation.team, generation.params())
        budget = Budget.hold(generation.team, generation.created_by, credits)
        entry = cls.objects.create(
            kind=cls.Kind.RESERVE,
            team=generation.team,
            user=generation.created_by,
            generation=generation,
            credits=credits,
            provider=generation.provider,
            model=generation.model,
            counts_on=budget.day,
            actor=by,
        )
        crossed = [limit for limit in budget.limits if limit.crossed_by(credits)]
        if crossed:
            _warn_admins(generation, crossed, credits)
        return entry

    @classmethod
    def settle(cls, generation: Generation) -> bool:
        """Charge a job the upstream made (or may have made), release any other: once, whoever asks first.
        False when there is nothing to settle (no reservation, or already settled)."""
        made = generation.upstream_finished_at is not None or generation.state == State.SUCCEEDED
        # An unconfirmed submit may have been made and billed upstream: it stays counted, so that the
        # limits hold whatever the upstream did; an admin can grant the credits back.
        maybe_made = generation.error_code == "submit_uncertain"
        kind = cls.Kind.CHARGE if made or maybe_made else cls.Kind.RELEASE
        reservation = cls.objects.filter(generation=generation, kind=cls.Kind.RESERVE).first()
        if reservation is None:
            return False
        try:
            with transaction.atomic():
                cls.objects.create(
                    kind=kind,
                    team_id=reservation.team_id,
                    user_id=reservation.user_id,
                    generation=generation,
                    credits=reservation.credits,
                    provider=reservation.provider,
                    model=reservation.model,
                    counts_on=reservation.counts_on,
                    reason=generation.error_code if kind == cls.Kind.RELEASE else "",
                )
                # On the video's timeline too, in the same transaction: written once, like the entry.
                generation.log(
                    "charged" if kind == cls.Kind.CHARGE else "released", credits=reservation.credits
                )
        except IntegrityError:
            return False
        return True

    @classmethod
    def settle_forgotten(cls) -> int:
        """Settle jobs that ended in the last day but whose outcome was never written (a worker stopped
        between the two steps): the one-minute tick asks."""
        outcome = cls.objects.filter(
            generation=models.OuterRef("generation"), kind__in=[cls.Kind.CHARGE, cls.Kind.RELEASE]
        )
        since = timezone.now() - timedelta(days=1)
        pending = (
            cls.objects.filter(kind=cls.Kind.RESERVE, generation__updated_at__gte=since)
            .exclude(generation__state__in=[State.QUEUED, State.SUBMITTING, State.RUNNING])
            .exclude(models.Exists(outcome))
            .values_list("generation", flat=True)
        )
        return sum(cls.settle(g) for g in Generation.objects.filter(pk__in=list(pending[:500])))

    @classmethod
    def grant(
        cls, team: Team, credits: int, *, reason: str, by: User | None = None, user: User | None = None
    ) -> LedgerEntry:
        """Extra credit for this day and month: for one member, or (no user) for the whole team."""
        if credits <= 0:
            raise ValueError(gettext("Grant a positive number of credits."))
        if not reason.strip():
            raise ValueError(gettext("Say why the credits are granted."))
        with transaction.atomic():
            entry = cls.objects.create(
                kind=cls.Kind.GRANT,
                team=team,
                user=user,
                credits=credits,
                counts_on=timezone.localdate(),
                actor=by,
                reason=reason.strip()[:300],
            )
            entry.record_grant()
        return entry

    def record_grant(self) -> None:
        """The grant's line in the team's audit trail (the caller holds the grant's transaction)."""
        AuditEntry.record(
            AuditEntry.Kind.CREDIT_GRANTED,
            team=self.team,
            actor=self.actor,
            subject=self.user,
            credits=self.credits,
            reason=self.reason,
        )


def _warn_admins(generation: Generation, crossed: list[Limit], credits: int) -> None:
    admins = [m.user for m in generation.team.memberships.select_related("user") if m.is_admin]
    for limit in crossed:
        Notification.send(
            admins,
            team=generation.team,
            kind=Notification.Kind.QUOTA_WARNING,
            generation=generation,
            actor=generation.created_by,
            member=generation.created_by.get_username() if limit.member else "",
            period=limit.period,
            used=limit.used + credits,
            soft_limit=limit.soft_limit,
            hard_cap=limit.hard_cap,
        )


# --- Balances ---------------------------------------------------------------------------------------------

LIMIT_NAMES: dict[tuple[bool, str], Any] = {
    (True, Period.DAILY): _("your daily limit"),
    (True, Period.MONTHLY): _("your monthly limit"),
    (False, Period.DAILY): _("the team's daily limit"),
    (False, Period.MONTHLY): _("the team's monthly limit"),
}
PERIOD_WORDS: dict[str, Any] = {Period.DAILY: _("today"), Period.MONTHLY: _("this month")}


@dataclass(frozen=True)
class Limit:
    """A quota as it stands today: what it allows, what is used, what is left."""

    member: bool  # the member's own limit; False: the whole team's
    period: str
    hard_cap: int
    soft_limit: int | None
    used: int
    granted: int
    ends: date  # the first day of the next period

    @property
    def remaining(self) -> int:
        return max(0, self.hard_cap + self.granted - self.used)

    @property
    def name(self) -> str:
        return str(LIMIT_NAMES[(self.member, self.period)])

    def refuses(self, credits: int) -> bool:
        return credits > self.remaining

    def warns(self, credits: int) -> bool:
        """Past the soft threshold after `credits` more."""
        return self.soft_limit is not None and self.used + credits > self.soft_limit + self.granted

    def crossed_by(self, credits: int) -> bool:
        """These credits are the ones that go past the soft threshold."""
        return self.warns(credits) and not self.warns(0)

    def resets(self) -> str:
        if self.period == Period.DAILY:
            return gettext("It resets tomorrow.")
        return gettext("It resets on %(day)s.") % {"day": formats.date_format(self.ends, "DATE_FORMAT")}


@dataclass(frozen=True)
class Budget:
    """The limits that apply to one member of a team today."""

    team: Team
    user: User
    day: date
    limits: list[Limit]

    @classmethod
    def of(cls, team: Team, user: User) -> Budget:
        day = timezone.localdate()
        quotas = list(Quota.objects.filter(team=team).filter(Q(user=user) | Q(user__isnull=True)))
        if not quotas:
            return cls(team, user, day, [])
        month_start, month_end = period_bounds(Period.MONTHLY, day)
        sums = LedgerEntry.objects.filter(
            team=team, counts_on__gte=month_start, counts_on__lt=month_end
        ).aggregate(**_sums(user, day))
        limits = []
        for quota in quotas:
            scope = f"{'member' if quota.user_id else 'team'}_{quota.period}"
            limits.append(
                Limit(
                    member=quota.user_id is not None,
                    period=quota.period,
                    hard_cap=quota.hard_cap,
                    soft_limit=quota.soft_limit,
                    used=sums[f"{scope}_reserved"] - sums[f"{scope}_released"],
                    granted=sums[f"{scope}_granted"],
                    ends=period_bounds(quota.period, day)[1],
                )
            )
        limits.sort(key=lambda limit: (limit.remaining, not limit.member))
        return cls(team, user, day, limits)

    @classmethod
    def hold(cls, team: Team, user: User, credits: int) -> Budget:
        """Lock the team's row until the transaction ends, then check that `credits` more fit every limit:
        the budget as it stands, or QuotaExceeded. Reservations made under the lock see each other."""
        list(Team.objects.select_for_update(no_key=_no_key()).filter(pk=team.pk).values_list("pk"))
        budget = cls.of(team, user)
        if (refusal := budget.refusal(credits)) is not None:
            raise refusal
        return budget

    def refusal(self, credits: int) -> QuotaExceeded | None:
        for limit in self.limits:
            if limit.refuses(credits):
                return QuotaExceeded(self, limit, credits)
        return None

    def tightest(self, member: bool) -> Limit | None:
        return next((limit for limit in self.limits if limit.member == member), None)


def _no_key() -> bool:
    """FOR NO KEY UPDATE where the database has it: it serialises reservations without blocking the inserts
    of rows that merely point at the team."""
    return bool(connection.features.has_select_for_no_key_update)


def _sums(user: User, day: date) -> dict[str, Any]:
    """Reserved, released and granted credits this month and today, for the member and for the team."""
    scopes = {
        "member_monthly": Q(user=user),
        "member_daily": Q(user=user, counts_on=day),
        "team_monthly": Q(),
        "team_daily": Q(counts_on=day),
    }
    sums: dict[str, Any] = {}
    for scope, where in scopes.items():
        # A grant to a member raises that member's limits; a grant to no one raises the team's.
        grants = where if scope.startswith("member") else where & Q(user__isnull=True)
        for name, kind, rows in (
            ("reserved", LedgerEntry.Kind.RESERVE, where),
            ("released", LedgerEntry.Kind.RELEASE, where),
            ("granted", LedgerEntry.Kind.GRANT, grants),
        ):
            sums[f"{scope}_{name}"] = Coalesce(Sum("credits", filter=rows & Q(kind=kind)), 0)
    return sums


class QuotaExceeded(Exception):
    """A submit that would go past a hard cap. Its message says what it costs, what is left, when the limit
    resets and who can raise it."""

    def __init__(self, budget: Budget, limit: Limit, credits: int) -> None:
        self.budget, self.limit, self.credits = budget, limit, credits
        super().__init__(self.message)

    @property
    def message(self) -> str:
        cost = ngettext(
            "This would cost %(credits)s credit, but %(limit)s leaves %(left)s.",
            "This would cost %(credits)s credits, but %(limit)s leaves %(left)s.",
            self.credits,
        ) % {"credits": self.credits, "limit": self.limit.name, "left": self.limit.remaining}
        return " ".join((cost, self.limit.resets(), self.who_to_ask()))

    def who_to_ask(self) -> str:
        admins = [
            m.user.get_username()
            for m in self.budget.team.memberships.select_related("user").order_by("user__username")
            if m.is_admin and m.user != self.budget.user
        ]
        if admins:
            return gettext("Ask %(admins)s for more credits.") % {
                "admins": capabilities.list_separator().join(admins)
            }
        return gettext("An admin can raise the limit with “manage.py quota” or grant extra credits.")


@dataclass(frozen=True)
class Quote:
    """What a request will cost and what the member has left: the lines beside the Generate button."""

    each: int
    jobs: int
    budget: Budget

    @classmethod
    def of(cls, team: Team, user: User, params: Mapping[str, Any], jobs: int) -> Quote:
        return cls(PriceOverride.price_of(team, params), jobs, Budget.of(team, user))

    @property
    def total(self) -> int:
        return self.each * self.jobs

    @property
    def refusal(self) -> QuotaExceeded | None:
        return self.budget.refusal(self.total)

    @property
    def cost(self) -> str:
        if self.jobs == 1:
            return ngettext(
                "This will cost %(total)s credit.", "This will cost %(total)s credits.", self.total
            ) % {"total": self.total}
        return ngettext(
            "This will cost %(total)s credit (%(jobs)s videos × %(each)s).",
            "This will cost %(total)s credits (%(jobs)s videos × %(each)s).",
            self.total,
        ) % {"total": self.total, "jobs": self.jobs, "each": self.each}

    @property
    def remaining(self) -> str:
        mine, team = self.budget.tightest(member=True), self.budget.tightest(member=False)
        if mine and team:
            return ngettext(
                "You have %(left)s credit left %(period)s (team: %(team)s).",
                "You have %(left)s credits left %(period)s (team: %(team)s).",
                mine.remaining,
            ) % {"left": mine.remaining, "period": PERIOD_WORDS[mine.period], "team": team.remaining}
        if mine:
            return ngettext(
                "You have %(left)s credit left %(period)s.",
                "You have %(left)s credits left %(period)s.",
                mine.remaining,
            ) % {"left": mine.remaining, "period": PERIOD_WORDS[mine.period]}
        if team:
            return ngettext(
                "Your team has %(left)s credit left %(period)s.",
                "Your team has %(left)s credits left %(period)s.",
                team.remaining,
            ) % {"left": team.remaining, "period": PERIOD_WORDS[team.period]}
        return gettext("No limit set.")

    @property
    def warnings(self) -> list[str]:
        """Soft thresholds this request would go past (while still within every cap)."""
        if self.refusal is not None:
            return []
        return [
            gettext("This goes past the warning level of %(limit)s: %(used)s of %(cap)s credits used.")
            % {"limit": limit.name, "used": limit.used + self.total, "cap": limit.hard_cap + limit.granted}
            for limit in self.budget.limits
            if limit.warns(self.total)
        ]


# --- When the studio's own account runs dry ---------------------------------------------------------------


# Sent, once the resume is committed, with the provider whose jobs may now go upstream.
provider_resumed = Signal()


class ProviderPause(models.Model):
    """A provider the studio has stopped sending jobs to, because the upstream said the studio's account is
    out of credit. Jobs for it wait in the queue, uncharged, until an admin resumes it."""

    provider = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(default=timezone.now)
    # No one when the pipeline paused it on the upstream's answer.
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "studio_providerpause"
        ordering = ["-paused_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider"], condition=Q(resumed_at__isnull=True), name="one_open_pause_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} paused at {self.paused_at:%Y-%m-%d %H:%M}"

    @property
    def provider_label(self) -> str:
        return capabilities.provider_label(self.provider)

    @classmethod
    def active(cls) -> models.QuerySet[ProviderPause]:
        return cls.objects.filter(resumed_at__isnull=True)

    @staticmethod
    def operators() -> str:
        """Who may resume a service, named to everyone else: the installation's operators (Django staff)."""
        names = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        return ", ".join(u.get_username() for u in names[:5]) or gettext("whoever runs the studio")

    @classmethod
    def paused_providers(cls) -> list[str]:
        return list(cls.active().values_list("provider", flat=True))

    @classmethod
    def is_paused(cls, provider: str) -> bool:
        return cls.active().filter(provider=provider).exists()

    @classmethod
    def pause(cls, provider: str, reason: str, *, by: User | None = None) -> ProviderPause | None:
        """Stop submitting to `provider` and tell every team's admins and the operators, once: None when it
        already was."""
        try:
            with transaction.atomic():
                pause = cls.objects.create(provider=provider, reason=reason[:2000], paused_by=by)
                AuditEntry.record(
                    AuditEntry.Kind.SERVICE_PAUSED,
                    team=None,
                    actor=by,
                    provider=provider,
                    reason=reason[:300],
                )
        except IntegrityError:
            return None
        log.error("paused %s: the account is out of credit (%s)", provider, reason)
        told: set[Any] = set()
        # Every team's admins, and the studio's operators (who alone can resume it) whatever their role.
        admins = Membership.objects.filter(
            Q(role=Membership.Role.ADMIN) | Q(user__is_staff=True), user__is_active=True
        ).select_related("user", "team")
        for membership in admins.order_by("created_at"):
            if membership.user_id not in told:
                told.add(membership.user_id)
                Notification.send(
                    [membership.user],
                    team=membership.team,
                    kind=Notification.Kind.PROVIDER_PAUSED,
                    actor=by,
                    provider=provider,
                    reason=reason[:300],
                )
        return pause

    def resume(self, by: User) -> bool:
        """Send to the provider again; its waiting jobs go to the queue at once."""
        now = timezone.now()
        with transaction.atomic():
            won = ProviderPause.objects.filter(pk=self.pk, resumed_at__isnull=True).update(
                resumed_at=now, resumed_by=by
            )
            if not won:
                return False
            self.resumed_at, self.resumed_by = now, by
            Generation.objects.filter(provider=self.provider, state=State.QUEUED).update(
                dispatched_at=None, next_attempt_at=None
            )
            AuditEntry.record(AuditEntry.Kind.SERVICE_RESUMED, team=None, actor=by, provider=self.provider)
        # The pipeline listens (it hands the waiting jobs to the queue): billing knows nothing of it.
        transaction.on_commit(lambda: provider_resumed.send(ProviderPause, provider=self.provider))
        return True

    @classmethod
    def sheltered(cls, since: Any) -> Q:
        """Jobs whose wait is the pause's, not the upstream's, for the time-out to leave alone: those queued
        for a paused provider, and those that were waiting when it was resumed after `since` (their clock
        restarts at the resume)."""
        shelter = Q(pk__in=[])
        for pause in cls.objects.filter(Q(resumed_at__isnull=True) | Q(resumed_at__gte=since)):
            if pause.resumed_at is None:
                shelter |= Q(provider=pause.provider, state=State.QUEUED)
            else:
                waited = Q(submitted_at__isnull=True) | Q(submitted_at__gte=pause.paused_at)
                shelter |= Q(provider=pause.provider, created_at__lt=pause.resumed_at) & waited
        return shelter


def open_pauses(providers: Iterable[str]) -> list[ProviderPause]:
    return list(ProviderPause.active().filter(provider__in=list(providers)))

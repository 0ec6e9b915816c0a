"""Spend and usage: what the team reserved, was charged, got back and was granted, day by day, by member,
video service, model or team, against its limits; with the ledger and the videos as CSV. Admins only.

Every number is read from the ledger and the videos with a few grouped queries, whatever the range. Credits
count on the day their reservation was made (the ledger's `counts_on`, in TIME_ZONE), as the quotas count
them: a charge or release on a later day still belongs to the day the job was asked for.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from sorastudio.lib import capabilities
from sorastudio.lib.dates import StudioDateField
from sorastudio.studio.models import Generation, State
from sorastudio.teams.decorators import admin_required
from sorastudio.teams.http import StudioRequest
from sorastudio.teams.models import Team

from . import charts
from .models import LedgerEntry, Limit, Period, Quota, period_bounds

Kind = LedgerEntry.Kind
MAX_DAYS = 366
DEFAULT_DAYS = 30
ALL_TEAMS = "all"
# What the rows are grouped by: the ledger's field and the video's field that name it.
GROUPS: dict[str, tuple[Any, str, str]] = {
    "member": (_("Member"), "user__username", "created_by__username"),
    "provider": (_("Video service"), "provider", "provider"),
    "model": (_("Model"), "model", "model"),
    "team": (_("Team"), "team__name", "team__name"),
}
FAILED_STATES = (State.FAILED, State.TIMED_OUT)
# The CSVs' columns: each heading, and the field it is read from.
LEDGER_COLUMNS = {
    "created_at": "created_at",
    "counts_on": "counts_on",
    "team": "team__name",
    "kind": "kind",
    "credits": "credits",
    "member": "user__username",
    "provider": "provider",
    "model": "model",
    "generation": "generation_id",
    "actor": "actor__username",
    "reason": "reason",
}
VIDEO_COLUMNS = {
    "created_at": "created_at",
    "id": "id",
    "team": "team__name",
    "member": "created_by__username",
    **{name: name for name in ("provider", "model", "version", "duration", "size", "quality", "state")},
    "error_code": "error_code",
    "credits": "credits",  # reserved when it was asked for
    "outcome": "outcome",  # charge, release, or nothing while it runs
    "deleted_at": "deleted_at",
    "prompt": "prompt",
}


@require_GET
@admin_required
def dashboard(request: StudioRequest) -> HttpResponseBase:
    """Charts and tables for the chosen days and teams; the filters live in the URL."""
    form = SpendFilter.for_request(request)
    context: dict[str, Any] = {"form": form, "report": None, "presets": [], "query": ""}
    if form.is_valid():
        report = Report.build(form.teams_chosen(), form.cleaned_data["start"], form.cleaned_data["end"])
        by = form.cleaned_data["by"]
        context.update(
            report=report,
            by=by,
            by_label=GROUPS[by][0],
            groups=report.grouped(by),
            spend_chart=report.spend_chart(by),
            outcome_chart=report.outcome_chart(),
            limits_chart=report.limits_chart(),
            presets=form.presets(),
            query=form.query(),
        )
    if request.htmx:  # htmx swaps only a 200: the fields' messages are in it
        response = TemplateResponse(request, "studio/dashboard.html#dashboard", context)
        # The days as ISO dates, whatever format they were typed in: the address to share.
        return push_url(response, f"?{form.query()}") if form.is_valid() else response
    return TemplateResponse(request, "studio/dashboard.html", context, status=200 if form.is_valid() else 400)


@require_GET
@admin_required
def ledger_csv(request: StudioRequest) -> HttpResponseBase:
    """Every ledger line of the chosen days and teams, oldest first."""
    form = SpendFilter.for_request(request)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = (
        LedgerEntry.objects.filter(team__in=form.teams_chosen(), counts_on__range=(start, end))
        .order_by("created_at", "id")
        .values_list(*LEDGER_COLUMNS.values())
    )
    return _csv_response(f"ledger-{start}-{end}.csv", list(LEDGER_COLUMNS), rows.iterator(chunk_size=500))


@require_GET
@admin_required
def generations_csv(request: StudioRequest) -> HttpResponseBase:
    """Every video asked for on the chosen days and teams (the trash's too), with its credits."""
    form = SpendFilter.for_request(request)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    ledger = LedgerEntry.objects.filter(generation=OuterRef("pk"))
    rows = (
        Generation.objects.filter(team__in=form.teams_chosen(), **_created_between(start, end))
        .annotate(
            credits=Subquery(ledger.filter(kind=Kind.RESERVE).values("credits")[:1]),
            outcome=Subquery(ledger.filter(kind__in=[Kind.CHARGE, Kind.RELEASE]).values("kind")[:1]),
        )
        .order_by("created_at", "id")
        .values_list(*VIDEO_COLUMNS.values())
    )
    filename = f"generations-{start}-{end}.csv"
    return _csv_response(filename, list(VIDEO_COLUMNS), rows.iterator(chunk_size=500))


# --- The filters ------------------------------------------------------------------------------------------


class SpendFilter(forms.Form):
    """The days, the grouping and the team(s), from the query string. Empty dates mean the last 30 days."""

    start = StudioDateField(label=_("From"), required=False)
    end = StudioDateField(label=_("To"), required=False)
    by = forms.ChoiceField(label=_("Group by"), choices=[(key, label) for key, (label, *_) in GROUPS.items()])
    team = forms.ChoiceField(label=_("Team"))

    def __init__(self, data: dict[str, Any], *, teams: list[Team]) -> None:
        super().__init__(data)
        self.teams = teams
        choices: list[tuple[str, Any]] = [(str(team.pk), team.name) for team in teams]
        if len(teams) > 1:
            choices.append((ALL_TEAMS, _("All my teams")))
        self.fields["team"].choices = choices  # type: ignore[attr-defined]

    @classmethod
    def for_request(cls, request: StudioRequest) -> SpendFilter:
        """The teams are those the person administers, the current one first and the default."""
        admin_of = [m.team for m in request.memberships if m.is_admin and m.team_id != request.team.pk]
        end = timezone.localdate()
        defaults = {
            "start": (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "end": end.isoformat(),
            "by": "member",
            "team": str(request.team.pk),
        }
        return cls({**defaults, **request.GET.dict()}, teams=[request.team, *admin_of])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "start" in self.errors or "end" in self.errors:
            return data
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("end", gettext("The last day comes before the first: pick a later day."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error(
                "start", gettext("Pick at most %(days)s days: this range is longer.") % {"days": MAX_DAYS}
            )
        data.update(start=start, end=end)
        return data

    def teams_chosen(self) -> list[Team]:
        chosen = self.cleaned_data["team"]
        return self.teams if chosen == ALL_TEAMS else [t for t in self.teams if str(t.pk) == chosen]

    def query(self, **changes: Any) -> str:
        """The filters as a query string, with some changed: for the presets and the CSV links."""
        values = {
            "start": self.cleaned_data["start"].isoformat(),
            "end": self.cleaned_data["end"].isoformat(),
            "by": self.cleaned_data["by"],
            "team": self.cleaned_data["team"],
        }
        values.update({key: str(value) for key, value in changes.items()})
        return urlencode(values)

    def presets(self) -> list[dict[str, Any]]:
        today = timezone.localdate()
        ranges = [
            (gettext("Last 7 days"), today - timedelta(days=6)),
            (gettext("Last 30 days"), today - timedelta(days=29)),
            (gettext("Last 90 days"), today - timedelta(days=89)),
            (gettext("This month"), today.replace(day=1)),
        ]
        chosen = (self.cleaned_data["start"], self.cleaned_data["end"])
        return [
            {
                "label": label,
                "query": self.query(start=start.isoformat(), end=today.isoformat()),
                "current": chosen == (start, today),
            }
            for label, start in ranges
        ]


# --- The numbers ------------------------------------------------------------------------------------------


@dataclass
class Row:
    """The credits and videos of one day, one group or the whole range."""

    key: Any
    label: str
    reserved: int = 0
    charged: int = 0
    released: int = 0
    granted: int = 0
    made: int = 0
    failed: int = 0

    @property
    def still_reserved(self) -> int:
        """Set aside for jobs that have not ended yet."""
        return self.reserved - self.charged - self.released

    @property
    def spent(self) -> int:
        """What counts against the limits: charged, and held for jobs still running."""
        return self.reserved - self.released

    def add(self, other: Row) -> None:
        for name in ("reserved", "charged", "released", "granted", "made", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class QuotaRow:
    """One limit as it stands today, for the limits' table and chart."""

    who: str
    limit: Limit
    charged: int

    @property
    def name(self) -> str:
        period = Period(self.limit.period).label
        return f"{self.who} ({period})"

    @property
    def cap(self) -> int:
        return self.limit.hard_cap + self.limit.granted

    @property
    def still_reserved(self) -> int:
        return self.limit.used - self.charged


@dataclass
class Report:
    """The chosen days' numbers, read once and folded into rows and charts as the page needs them."""

    teams: list[Team]
    start: date
    end: date
    # The ledger's and the videos' sums per day and per member, service, model and team at once: any
    # grouping is folded from them without asking the database again.
    ledger: list[Mapping[str, Any]] = field(default_factory=list)
    videos: list[Mapping[str, Any]] = field(default_factory=list)
    quotas: list[QuotaRow] = field(default_factory=list)
    team_daily_cap: int | None = None

    @classmethod
    def build(cls, teams: list[Team], start: date, end: date) -> Report:
        """Four grouped queries, whatever the range and the number of members."""
        report = cls(teams, start, end)
        sums = {
            "reserved": _sum(Kind.RESERVE),
            "charged": _sum(Kind.CHARGE),
            "released": _sum(Kind.RELEASE),
            "granted": _sum(Kind.GRANT),
        }
        keys = {f"key_{name}": F(ledger_field) for name, (_label, ledger_field, _g) in GROUPS.items()}
        report.ledger = list(
            LedgerEntry.objects.filter(team__in=teams, counts_on__range=(start, end))
            .values(day=F("counts_on"), **keys)
            .annotate(**sums)
            .order_by()
        )
        keys = {f"key_{name}": F(video_field) for name, (_label, _l, video_field) in GROUPS.items()}
        report.videos = list(
            Generation.objects.filter(team__in=teams, **_created_between(start, end))
            .values(day=TruncDate("created_at"), **keys)
            .annotate(
                videos_made=Count("pk", filter=Q(state=State.SUCCEEDED)),
                videos_failed=Count("pk", filter=Q(state__in=FAILED_STATES)),
            )
            .order_by()
        )
        report.quotas, report.team_daily_cap = _limits(teams)
        return report

    def _rows(self, key: Any) -> dict[Any, Row]:
        """The ledger's and the videos' sums folded into one row per key(record)."""
        rows: dict[Any, Row] = {}
        for record in self.ledger:
            row = rows.setdefault(key(record), Row(key(record), ""))
            row.add(Row(None, "", **{name: record[name] for name in _KINDS}))
        for record in self.videos:
            row = rows.setdefault(key(record), Row(key(record), ""))
            row.add(Row(None, "", made=record["videos_made"], failed=record["videos_failed"]))
        return rows

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def daily(self) -> list[Row]:
        """The days that saw anything, oldest first."""
        rows = self._rows(lambda record: record["day"])
        for day, row in rows.items():
            row.key, row.label = day.isoformat(), formats.date_format(day, "DATE_FORMAT")
        return [rows[day] for day in sorted(rows)]

    def grouped(self, by: str) -> list[Row]:
        """One row per member (video service, model, team), the biggest spender first."""
        rows = self._rows(lambda record: record[f"key_{by}"])
        for key, row in rows.items():
            row.label = _label(by, key)
        return sorted(rows.values(), key=lambda row: (-row.spent, -row.granted, row.label))

    def total(self) -> Row:
        total = Row(None, gettext("Total"))
        for row in self._rows(lambda record: None).values():
            total.add(row)
        return total

    # --- Charts

    def spend_chart(self, by: str) -> str:
        groups = [row for row in self.grouped(by) if row.spent]
        spent: dict[tuple[date, Any], int] = {}
        for record in self.ledger:
            at = (record["day"], record[f"key_{by}"])
            spent[at] = spent.get(at, 0) + record["reserved"] - record["released"]
        series = [
            charts.Series(row.label, [spent.get((day, row.key), 0) for day in self.days]) for row in groups
        ]
        by_label = str(GROUPS[by][0]).lower()
        return charts.stacked_bars(
            chart_id="spend-chart",
            title=gettext("Credits spent per day, by %(group)s") % {"group": by_label},
            description=gettext(
                "Credits charged or still set aside, on the day each job was asked for, from %(start)s to "
                "%(end)s: %(total)s in all."
            )
            % {"start": self._day(self.start), "end": self._day(self.end), "total": self.total().spent},
            categories=self._day_categories(),
            series=series,
            x_label=gettext("Day"),
            y_label=gettext("Credits"),
            cap=self.team_daily_cap,
            cap_label=gettext("Team's daily limit"),
        )

    def outcome_chart(self) -> str:
        rows = self._rows(lambda record: record["day"])
        empty = Row(None, "")
        outcomes = [
            (gettext("Charged"), "charged"),
            (gettext("Still set aside"), "still_reserved"),
            (gettext("Released"), "released"),
            (gettext("Granted"), "granted"),
        ]
        series = [
            charts.Series(label, [getattr(rows.get(day, empty), name) for day in self.days])
            for label, name in outcomes
        ]
        total = self.total()
        return charts.stacked_bars(
            chart_id="outcome-chart",
            title=gettext("What became of the credits, per day"),
            description=gettext(
                "%(charged)s credits charged, %(open)s still set aside, %(released)s released and "
                "%(granted)s granted."
            )
            % {
                "charged": total.charged,
                "open": total.still_reserved,
                "released": total.released,
                "granted": total.granted,
            },
            categories=self._day_categories(),
            series=series,
            x_label=gettext("Day"),
            y_label=gettext("Credits"),
        )

    def limits_chart(self) -> str:
        if not self.quotas:
            return ""
        return charts.stacked_bars(
            chart_id="limits-chart",
            title=gettext("The limits as they stand today"),
            description=" ".join(
                gettext("%(who)s: %(used)s of %(cap)s credits used.")
                % {"who": row.name, "used": row.limit.used, "cap": row.cap}
                for row in self.quotas
            ),
            categories=[charts.Category(row.name, row.name) for row in self.quotas],
            series=[
                charts.Series(gettext("Charged"), [row.charged for row in self.quotas]),
                charts.Series(gettext("Still set aside"), [row.still_reserved for row in self.quotas]),
            ],
            x_label=gettext("Limit"),
            y_label=gettext("Credits"),
            caps=[row.cap for row in self.quotas],
            cap_label=gettext("Limit"),
        )

    def _day_categories(self) -> list[charts.Category]:
        return [
            charts.Category(day.isoformat(), formats.date_format(day, "SHORT_DATE_FORMAT"))
            for day in self.days
        ]

    @staticmethod
    def _day(day: date) -> str:
        return formats.date_format(day, "DATE_FORMAT")


_KINDS = ("reserved", "charged", "released", "granted")


def _sum(kind: str, where: Q | None = None) -> Any:
    return Coalesce(Sum("credits", filter=Q(kind=kind) & (where or Q())), 0)


def _created_between(start: date, end: date) -> dict[str, datetime]:
    """From the first day's midnight to the last day's end, in TIME_ZONE (the index on created_at serves)."""
    first = timezone.make_aware(datetime.combine(start, time.min))
    after = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return {"created_at__gte": first, "created_at__lt": after}


def _label(by: str, key: Any) -> str:
    if by == "member":
        return key or gettext("The whole team (grants)")
    if by == "provider":
        return capabilities.provider_label(key) if key else gettext("None (grants)")
    if by == "model":
        return capabilities.MODELS.get(key, key) if key else gettext("None (grants)")
    return str(key)


def _limits(teams: list[Team]) -> tuple[list[QuotaRow], int | None]:
    """Every limit of the teams, with what is used of it this day or month; and the one team's daily cap
    (the line on the spending chart), when one team is shown and has one. Two queries."""
    quotas = list(Quota.objects.filter(team__in=teams).select_related("team", "user").order_by("team__name"))
    if not quotas:
        return [], None
    today = timezone.localdate()
    month_start, month_end = period_bounds(Period.MONTHLY, day=today)
    sums: dict[str, Any] = {}
    for period, where in ((Period.MONTHLY, Q()), (Period.DAILY, Q(counts_on=today))):
        for name, kind in (("reserved", Kind.RESERVE), ("released", Kind.RELEASE), ("charged", Kind.CHARGE)):
            sums[f"{period}_{name}"] = _sum(kind, where)
        sums[f"{period}_granted"] = _sum(Kind.GRANT, where)
    per_member: list[Mapping[str, Any]] = list(
        LedgerEntry.objects.filter(team__in=teams, counts_on__gte=month_start, counts_on__lt=month_end)
        .values("team_id", "user_id")
        .annotate(**sums)
        .order_by()
    )
    rows = []
    for quota in quotas:
        p = quota.period
        mine = [
            s
            for s in per_member
            if s["team_id"] == quota.team_id and (quota.user_id is None or s["user_id"] == quota.user_id)
        ]
        # A grant to a member raises that member's limits; a grant to no one raises the team's.
        grants = [s for s in mine if s["user_id"] == quota.user_id]
        limit = Limit(
            member=quota.user_id is not None,
            period=p,
            hard_cap=quota.hard_cap,
            soft_limit=quota.soft_limit,
            used=sum(s[f"{p}_reserved"] - s[f"{p}_released"] for s in mine),
            granted=sum(s[f"{p}_granted"] for s in grants),
            ends=period_bounds(p, today)[1],
        )
        who = quota.user.get_username() if quota.user else gettext("Whole team")
        if len(teams) > 1:
            who = f"{quota.team.name}: {who}"
        rows.append(QuotaRow(who, limit, charged=sum(s[f"{p}_charged"] for s in mine)))
    rows.sort(key=lambda row: (row.limit.member, row.name))
    team_daily = [q for q in quotas if q.user_id is None and q.period == Period.DAILY]
    return rows, team_daily[0].hard_cap if len(teams) == 1 and team_daily else None


# --- CSV --------------------------------------------------------------------------------------------------


class _Echo:
    """csv.writer writes each line here, which hands it straight back to be streamed."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a prompt starting with =, +, - or @) is quoted with a
    leading apostrophe; times are written in TIME_ZONE."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

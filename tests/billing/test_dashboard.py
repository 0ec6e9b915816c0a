"""The spend and usage dashboard: its numbers against a ledger written through the ledger's own verbs, on
several days, members, services and models; the filters; the CSVs; and who may see what."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.dashboard_views import safe_cell
from sorastudio.billing.models import Budget, LedgerEntry, Period, Quota
from sorastudio.pipeline import outcomes
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from tests.helpers import TeamTestCase, make_member, read_body
from tests.helpers import make_job as queued_job

SVG = "{http://www.w3.org/2000/svg}"
HTMX = {"HX-Request": "true"}


def make_job(
    team: Team,
    user: Any,
    day: date,
    *,
    outcome: str = "",
    provider: str = "acedata",
    model: str = "sora-2",
    duration: int = 10,
    prompt: str = "A paper boat in the rain",
) -> Generation:
    """A job asked for on `day` through the ledger's verbs: reserved, then charged ("charge", the upstream
    made it and it was archived), released ("release", it failed) or left open (""). Sora 2 costs 1 credit a
    second, Sora 2 Pro 3."""
    job = queued_job(team, user, prompt, provider=provider, model=model, duration=duration)
    if outcome == "charge":
        Generation.objects.filter(pk=job.pk).update(state=State.RUNNING, upstream_task_id=f"task-{job.pk}")
        job.refresh_from_db()
        assert outcomes.upstream_succeeded(job, "https://example.com/v.mp4")
        Generation.objects.filter(pk=job.pk).update(state=State.SUCCEEDED)
    elif outcome == "release":
        assert outcomes.failed(
            job, "content_policy", "The service refused the prompt.", from_states=(State.QUEUED,)
        )
    noon = timezone.make_aware(datetime.combine(day, time(12)))
    Generation.objects.filter(pk=job.pk).update(created_at=noon)
    LedgerEntry.objects.filter(generation=job).update(counts_on=day)
    return job


def table(html: str, table_id: str) -> dict[str, dict[str, int]]:
    """A dashboard table as {row label: {column: number}}, read from the cells' data attributes."""
    found = re.search(rf'<table class="spend" id="{table_id}">(.*?)</table>', html, re.S)
    assert found, f"no table {table_id}"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S):
        label = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if label:
            cells = re.findall(r'data-([a-z]+)="(-?\d+)"', row)
            rows[label.group(1).strip()] = {name: int(value) for name, value in cells}
    return rows


def chart(html: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert found, f"no chart {chart_id}"
    return ET.fromstring(found.group(0))  # noqa: S314 - the studio's own markup


def bars(svg: ET.Element) -> dict[str, dict[str, int]]:
    """{day: {series: credits}} for the bars that have anything."""
    drawn: dict[str, dict[str, int]] = {}
    for bar in svg.findall(f".//{SVG}g[@class='bar']"):
        segments = {
            rect.get("data-series", ""): int(rect.get("data-value", 0)) for rect in bar.iter(f"{SVG}rect")
        }
        if segments:
            drawn[bar.get("data-category", "")] = segments
    return drawn


def rows_of(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_body(response).decode())))


class DashboardTestCase(TeamTestCase):
    """Three days of Studio's spending, something older, and Agency's, which Studio's admins never see.

    day -2: alice's Sora 2 10 s (10, charged, made); bob's Sora 2 Pro 10 s on Sora2API (30, charged, made)
    day -1: alice's Sora 2 Pro 10 s (30, released: failed); alice's Sora 2 15 s (15, still set aside)
    today:  bob's Sora 2 10 s (10, charged, still being saved); 50 granted to alice, 20 to the whole team
    day -40: alice's Sora 2 10 s (10, charged), outside the default 30 days
    Agency, today: carol's Sora 2 10 s (10, charged)
    """

    today: ClassVar[date]
    day: ClassVar[dict[int, date]]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.today = today = timezone.localdate()
        cls.day = {n: today - timedelta(days=n) for n in (0, 1, 2, 40)}
        make_job(cls.studio, cls.alice, cls.day[2], outcome="charge")
        make_job(cls.studio, cls.bob, cls.day[2], outcome="charge", provider="sora2api", model="sora-2-pro")
        make_job(cls.studio, cls.alice, cls.day[1], outcome="release", model="sora-2-pro")
        make_job(cls.studio, cls.alice, cls.day[1], duration=15)
        make_job(cls.studio, cls.bob, cls.day[0], outcome="charge")
        Generation.objects.filter(created_by=cls.bob, created_at__date=cls.day[0]).update(
            state=State.ARCHIVING
        )
        LedgerEntry.grant(cls.studio, 50, reason="A big project", by=cls.dana, user=cls.alice)
        LedgerEntry.grant(cls.studio, 20, reason="Everyone", by=cls.dana)
        make_job(cls.studio, cls.alice, cls.day[40], outcome="charge")
        make_job(cls.agency, cls.carol, cls.day[0], outcome="charge", prompt="Agency's secret campaign")

    def setUp(self) -> None:
        self.client.force_login(self.dana)

    def get(self, **query: Any) -> Any:
        return self.client.get(reverse("studio:dashboard"), query)


class NumbersTests(DashboardTestCase):
    def test_the_members_table_adds_up_the_ledger_and_the_videos(self) -> None:
        response = self.get()
        self.assertEqual(response.status_code, 200)
        members = table(response.content.decode(), "groups-table")
        self.assertEqual(
            members,
            {
                "bob": dict(spent=40, charged=40, open=0, released=0, granted=0, made=1, failed=0),
                "alice": dict(spent=25, charged=10, open=15, released=30, granted=50, made=1, failed=1),
                "The whole team (grants)": dict(
                    spent=0, charged=0, open=0, released=0, granted=20, made=0, failed=0
                ),
                "Total": dict(spent=65, charged=50, open=15, released=30, granted=70, made=2, failed=1),
            },
        )
        # The biggest spender first.
        self.assertEqual(list(members)[:2], ["bob", "alice"])

    def test_the_days_table_has_one_row_per_day_with_anything(self) -> None:
        html = self.get().content.decode()
        days = {
            key: values
            for key, values in zip(
                re.findall(r'<tr data-key="([\d-]+)">', html.split('id="days-table"')[1]),
                table(html, "days-table").values(),
                strict=True,
            )
        }
        iso = {n: self.day[n].isoformat() for n in self.day}
        self.assertEqual(
            days,
            {
                iso[2]: dict(spent=40, charged=40, open=0, released=0, granted=0, made=2, failed=0),
                iso[1]: dict(spent=15, charged=0, open=15, released=30, granted=0, made=0, failed=1),
                iso[0]: dict(spent=10, charged=10, open=0, released=0, granted=70, made=0, failed=0),
            },
        )

    def test_grouped_by_service_and_by_model(self) -> None:
        services = table(self.get(by="provider").content.decode(), "groups-table")
        self.assertEqual(
            {name: (row["spent"], row["charged"], row["released"]) for name, row in services.items()},
            {
                "AceDataCloud": (35, 20, 30),
                "Sora2API": (30, 30, 0),
                "None (grants)": (0, 0, 0),
                "Total": (65, 50, 30),
            },
        )
        models = table(self.get(by="model").content.decode(), "groups-table")
        self.assertEqual(
            {name: (row["spent"], row["open"], row["made"]) for name, row in models.items()},
            {
                "Sora 2": (35, 15, 1),
                "Sora 2 Pro": (30, 0, 1),
                "None (grants)": (0, 0, 0),
                "Total": (65, 15, 2),
            },
        )

    def test_the_spending_chart_stacks_each_members_credits_per_day(self) -> None:
        svg = chart(self.get().content.decode(), "spend-chart")
        self.assertEqual(
            bars(svg),
            {
                self.day[2].isoformat(): {"bob": 30, "alice": 10},
                self.day[1].isoformat(): {"alice": 15},
                self.day[0].isoformat(): {"bob": 10},
            },
        )
        # One bar for each of the 30 days, the empty ones too.
        self.assertEqual(len(svg.findall(f".//{SVG}g[@class='bar']")), 30)
        self.assertIn("65 in all", svg.findtext(f"{SVG}desc") or "")

    def test_the_outcome_chart_shows_charged_set_aside_released_and_granted(self) -> None:
        svg = chart(self.get().content.decode(), "outcome-chart")
        self.assertEqual(
            bars(svg),
            {
                self.day[2].isoformat(): {"Charged": 40},
                self.day[1].isoformat(): {"Still set aside": 15, "Released": 30},
                self.day[0].isoformat(): {"Charged": 10, "Granted": 70},
            },
        )

    def test_a_team_daily_limit_is_a_line_on_the_spending_chart(self) -> None:
        self.assertIsNone(chart(self.get().content.decode(), "spend-chart").find(f".//{SVG}g[@class='cap']"))
        Quota.set_limit(self.studio, None, Period.DAILY, 200)
        cap = chart(self.get().content.decode(), "spend-chart").find(f".//{SVG}g[@class='cap']")
        assert cap is not None
        self.assertEqual(cap.get("data-cap"), "200")

    def test_the_limits_show_what_is_used_of_each_as_the_form_counts_it(self) -> None:
        self.assertNotIn('id="limits-table"', self.get().content.decode())
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        Quota.set_limit(self.studio, self.bob, Period.DAILY, 25)
        Quota.set_limit(self.studio, None, Period.MONTHLY, 500)
        html = self.get().content.decode()
        limits = table(html, "limits-table")
        # Today only bob's 10 count against his daily limit.
        self.assertEqual(limits["bob (Daily)"], {"used": 10, "cap": 25, "left": 15})
        # The month's numbers depend on the date: they must be the ones the form and the refusals use.
        alice = next(limit for limit in Budget.of(self.studio, self.alice).limits if limit.member)
        self.assertEqual(
            limits["alice (Monthly)"],
            {"used": alice.used, "cap": 100 + alice.granted, "left": alice.remaining},
        )
        team = next(limit for limit in Budget.of(self.studio, self.alice).limits if not limit.member)
        self.assertEqual(limits["Whole team (Monthly)"]["used"], team.used)
        # Each limit is a bar with its cap drawn over it.
        svg = chart(html, "limits-chart")
        caps = {
            bar.get("data-category"): (bar.get("data-total"), line.get("data-cap"))
            for bar in svg.findall(f".//{SVG}g[@class='bar']")
            for line in bar.findall(f"{SVG}line")
        }
        self.assertEqual(caps["bob (Daily)"], ("10", "25"))
        self.assertEqual(caps["alice (Monthly)"], (str(alice.used), str(100 + alice.granted)))

    def test_the_page_costs_the_same_queries_with_more_data(self) -> None:
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(self.get().status_code, 200)
        for n in range(6):
            erin = make_member(f"member{n}", self.studio)
            Quota.set_limit(self.studio, erin, Period.MONTHLY, 100)
            for day in (3, 4, 5):
                make_job(self.studio, erin, self.today - timedelta(days=day + n), outcome="charge")
        with CaptureQueriesContext(connection) as many:
            self.assertEqual(self.get().status_code, 200)
        # The first page has no limits yet (one query fewer for their sums).
        self.assertEqual(len(many), len(few) + 1, [q["sql"] for q in many.captured_queries])
        with CaptureQueriesContext(connection) as again:
            self.get(by="model")
        self.assertEqual(len(again), len(many))

    @override_settings(TIME_ZONE="America/New_York")
    def test_videos_are_counted_on_their_day_in_the_studios_time_zone(self) -> None:
        late = make_job(self.studio, self.alice, date(2026, 3, 9), outcome="release")
        # 02:00 in UTC on the 10th is still the evening of the 9th in New York.
        Generation.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
        ninth = table(self.get(start="2026-03-09", end="2026-03-09").content.decode(), "groups-table")
        self.assertEqual(ninth["alice"]["failed"], 1)
        tenth = self.get(start="2026-03-10", end="2026-03-10").content.decode()
        self.assertNotIn("alice", table(tenth, "groups-table"))


class FilterTests(DashboardTestCase):
    def test_the_range_picks_the_days(self) -> None:
        older = self.day[40].isoformat()
        members = table(self.get(start=older, end=older).content.decode(), "groups-table")
        self.assertEqual(members["alice"]["charged"], 10)
        self.assertEqual(members["Total"]["spent"], 10)
        two_days = table(
            self.get(start=self.day[1].isoformat(), end=self.day[0].isoformat()).content.decode(),
            "groups-table",
        )
        self.assertEqual(two_days["Total"]["spent"], 25)

    def test_the_presets_keep_the_grouping_and_mark_the_range_shown(self) -> None:
        html = self.get(by="model").content.decode()
        week = f"start={self.day[0] - timedelta(days=6)}&amp;end={self.today}&amp;by=model"
        self.assertIn(f'href="?{week}', html)
        self.assertRegex(html, r"aria-current=\"true\">Last 30 days<")
        self.assertIn(f"start={self.today.replace(day=1)}&amp;end={self.today}", html)

    def test_a_bad_date_is_named_next_to_its_field(self) -> None:
        response = self.get(start="2026-02-31", end="yesterday")
        self.assertEqual(response.status_code, 400)
        html = response.content.decode()
        self.assertEqual(html.count("Enter a valid date, such as 3 Nov 2026 or 2026-11-03."), 2)
        self.assertIn('aria-invalid="true"', html)
        self.assertNotIn('id="spend-chart"', html)

    def test_a_range_the_wrong_way_round_or_too_long_is_refused(self) -> None:
        backwards = self.get(start="2026-03-10", end="2026-03-01")
        self.assertContains(backwards, "The last day comes before the first", status_code=400)
        too_long = self.get(start="2024-01-01", end="2026-01-01")
        self.assertContains(too_long, "Pick at most 366 days", status_code=400)

    def test_htmx_gets_the_dashboard_alone_and_the_page_works_without(self) -> None:
        fragment = self.client.get(reverse("studio:dashboard"), {"by": "provider"}, headers=HTMX)
        html = fragment.content.decode()
        self.assertTrue(html.lstrip().startswith('<div id="dashboard">'))
        self.assertNotIn("<html", html)
        self.assertIn("AceDataCloud", html)
        page = self.get(by="provider").content.decode()
        self.assertIn('<form class="dashboard-filters" method="get"', page)
        self.assertIn('hx-push-url="true"', page)

    def test_an_admin_of_several_teams_picks_one_or_sees_each_as_a_series(self) -> None:
        lab = Team.objects.create(name="Lab")
        Membership.objects.create(team=lab, user=self.dana, role=Membership.Role.ADMIN)
        make_job(lab, self.dana, self.today, outcome="charge", model="sora-2-pro")
        only_studio = table(self.get(by="team").content.decode(), "groups-table")
        self.assertEqual(list(only_studio), ["Studio", "Total"])
        only_lab = table(self.get(by="team", team=lab.pk).content.decode(), "groups-table")
        self.assertEqual(only_lab["Lab"]["charged"], 30)
        html = self.get(by="team", team="all").content.decode()
        self.assertEqual(
            {name: row["spent"] for name, row in table(html, "groups-table").items()},
            {"Studio": 65, "Lab": 30, "Total": 95},
        )
        self.assertEqual(bars(chart(html, "spend-chart"))[self.today.isoformat()], {"Studio": 10, "Lab": 30})


class ScopeTests(DashboardTestCase):
    def test_another_teams_admin_sees_only_their_own(self) -> None:
        self.client.force_login(self.carol)
        html = self.get().content.decode()
        self.assertEqual(table(html, "groups-table")["Total"]["spent"], 10)
        self.assertNotIn("alice", html)
        self.assertNotIn("bob", html)

    def test_another_teams_id_is_refused(self) -> None:
        self.client.force_login(self.carol)
        self.assertEqual(self.get(team=str(self.studio.pk)).status_code, 400)
        ledger = self.client.get(reverse("studio:ledger_csv"), {"team": str(self.studio.pk)})
        self.assertEqual(ledger.status_code, 400)
        self.assertNotIn(b"alice", read_body(ledger))

    def test_members_who_are_not_admins_are_refused(self) -> None:
        for person in (self.alice, self.bob):
            self.client.force_login(person)
            for name in ("studio:dashboard", "studio:ledger_csv", "studio:generations_csv"):
                self.assertEqual(self.client.get(reverse(name)).status_code, 403, (person, name))


class CsvTests(DashboardTestCase):
    def test_the_ledger_is_every_line_of_the_range_streamed(self) -> None:
        response = self.client.get(reverse("studio:ledger_csv"))
        self.assertTrue(response.streaming)
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertRegex(response["Content-Disposition"], r'attachment; filename="ledger-[\d-]+-[\d-]+\.csv"')
        rows = rows_of(response)
        kinds = sorted(row["kind"] for row in rows)
        self.assertEqual(kinds, sorted(["reserve"] * 5 + ["charge"] * 3 + ["release"] + ["grant"] * 2))
        self.assertEqual(sum(int(row["credits"]) for row in rows if row["kind"] == "charge"), 50)
        self.assertEqual({row["team"] for row in rows}, {"Studio"})
        grant = next(row for row in rows if row["kind"] == "grant" and row["member"] == "alice")
        self.assertEqual((grant["credits"], grant["actor"], grant["reason"]), ("50", "dana", "A big project"))

    def test_the_ledger_follows_the_range(self) -> None:
        older = self.day[40].isoformat()
        rows = rows_of(self.client.get(reverse("studio:ledger_csv"), {"start": older, "end": older}))
        self.assertEqual(
            [(row["kind"], row["counts_on"]) for row in rows], [("reserve", older), ("charge", older)]
        )

    def test_the_videos_carry_their_credits_and_outcome(self) -> None:
        response = self.client.get(reverse("studio:generations_csv"))
        self.assertTrue(response.streaming)
        rows = rows_of(response)
        self.assertEqual(len(rows), 5)
        made = sorted(
            (row["member"], row["model"], row["credits"], row["outcome"], row["state"]) for row in rows
        )
        self.assertEqual(
            made,
            [
                ("alice", "sora-2", "10", "charge", "succeeded"),
                ("alice", "sora-2", "15", "", "queued"),
                ("alice", "sora-2-pro", "30", "release", "failed"),
                ("bob", "sora-2", "10", "charge", "archiving"),
                ("bob", "sora-2-pro", "30", "charge", "succeeded"),
            ],
        )

    def test_a_prompt_that_looks_like_a_formula_is_quoted(self) -> None:
        for prompt in ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"):
            make_job(self.studio, self.alice, self.today, prompt=prompt)
        prompts = {row["prompt"] for row in rows_of(self.client.get(reverse("studio:generations_csv")))}
        self.assertTrue({'\'=HYPERLINK("http://evil")', "'+1+1", "'-2+3", "'@SUM(A1)"} <= prompts, prompts)
        self.assertIn("A paper boat in the rain", prompts)

    def test_safe_cell_leaves_numbers_and_plain_text_alone(self) -> None:
        self.assertEqual([safe_cell(v) for v in (-5, 10, None, "a=b", "")], [-5, 10, "", "a=b", ""])
        moment = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
        with timezone.override("America/New_York"):
            self.assertEqual(safe_cell(moment), "2026-03-09T22:00:00-04:00")


class DateFormatTests(DashboardTestCase):
    def test_days_are_written_one_way_in_each_language(self) -> None:
        day = self.day[2]
        expected = {
            "en": (f"{day.day} {day:%b} {day.year}", f"{day.day} {day:%b}"),
            "zh-hans": (f"{day.year}年{day.month}月{day.day}日", f"{day.month}月{day.day}日"),
        }
        for language, (long, short) in expected.items():
            with self.subTest(language=language):
                html = self.client.get(reverse("studio:dashboard"), headers={"accept-language": language})
                text = html.content.decode()
                row = text.split(f'<tr data-key="{day.isoformat()}">')[1].split("</th>")[0]
                self.assertIn(long, row)  # the days table
                self.assertTrue(f">{short}</text>" in text, f"no {short} under the charts' axis")

    def test_the_fields_show_the_days_in_the_studio_format_and_the_address_keeps_iso(self) -> None:
        url = reverse("studio:dashboard")
        page = self.client.get(url, {"start": "2026-11-01", "end": "3 Nov 2026"})
        self.assertContains(page, 'value="1 Nov 2026"')
        self.assertContains(page, 'value="3 Nov 2026"')
        fragment = self.client.get(url, {"start": "1 Nov 2026", "end": "2026-11-03"}, headers=HTMX)
        self.assertTrue(fragment["HX-Push-Url"].startswith("?start=2026-11-01&end=2026-11-03&"))
        chinese = self.client.get(url, {"start": "2026年11月1日"}, headers={"accept-language": "zh-hans"})
        self.assertContains(chinese, 'value="2026年11月1日"')

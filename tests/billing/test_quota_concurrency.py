"""Fifty submits at the same moment, at the edge of a quota, never spend one credit more than it allows.
`make test` runs them on SQLite (IMMEDIATE transactions) and again on PostgreSQL (row locks)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.test import TransactionTestCase

from sorastudio.billing.models import (
    Budget,
    Combination,
    LedgerEntry,
    Period,
    PriceOverride,
    Quota,
    QuotaExceeded,
)
from sorastudio.pipeline import submit
from sorastudio.studio.models import Generation
from sorastudio.teams.models import Team
from tests.helpers import all_at_once, make_member

SUBMITS = 50
PARAMS = {"provider": "acedata", "model": "sora-2", "version": "1.0", "duration": 10, "size": "small"}


class QuotaConcurrencyTests(TransactionTestCase):
    """On the run's database: SQLite in `make test-sqlite`, PostgreSQL in `make test-postgres`."""

    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.studio)
        self.bob = make_member("bob", self.studio)
        # 3 credits a video, so that a cap of 100 can only be met, never filled exactly.
        PriceOverride.set_price(self.studio, Combination.of(PARAMS), 3, by=None)

    def submit_all_at_once(self, people: list[Any]) -> tuple[int, int, list[BaseException]]:
        """Each person submits one video, every thread released by the same barrier."""
        return all_at_once([partial(self.submit, person) for person in people], QuotaExceeded)

    def submit(self, person: Any) -> None:
        submit.create_jobs(team=self.studio, user=person, simulated=True, params=PARAMS, prompts=["a fox"])

    def reserved(self, **where: Any) -> int:
        entries = LedgerEntry.objects.filter(team=self.studio, kind=LedgerEntry.Kind.RESERVE, **where)
        return sum(entries.values_list("credits", flat=True))

    def test_fifty_submits_at_a_members_cap_never_overspend_it(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        LedgerEntry.grant(self.studio, 2, reason="a little extra", user=self.alice)  # room: 102 credits
        made, refused, errors = self.submit_all_at_once([self.alice] * SUBMITS)
        self.assertEqual(errors, [])
        self.assertEqual((made, refused), (34, SUBMITS - 34))
        self.assertEqual(self.reserved(), 102)
        self.assertEqual(Generation.objects.count(), 34)
        self.assertEqual(Budget.of(self.studio, self.alice).limits[0].remaining, 0)

    def test_fifty_submits_from_two_members_at_the_team_cap_never_overspend_it(self) -> None:
        Quota.set_limit(self.studio, None, Period.DAILY, 100)
        Quota.set_limit(self.studio, self.bob, Period.DAILY, 30)
        made, refused, errors = self.submit_all_at_once([self.alice, self.bob] * (SUBMITS // 2))
        self.assertEqual(errors, [])
        self.assertEqual((made, refused), (33, SUBMITS - 33))
        self.assertEqual(self.reserved(), 99)
        self.assertLessEqual(self.reserved(user=self.bob), 30)

"""Submits at the same moment, from one person in two teams, never ask for more videos than SUBMIT_RATE_LIMIT
allows. Run on SQLite (IMMEDIATE transactions) and again on PostgreSQL (row locks), as the quota's twin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import TransactionTestCase, override_settings

from sorastudio.lib.ratelimit import RateLimited
from sorastudio.pipeline import submit
from sorastudio.studio.models import Generation
from sorastudio.teams.models import Membership, Team
from tests.helpers import all_at_once, make_finished, make_member

SUBMITS = 12
PARAMS = {"provider": "acedata", "model": "sora-2", "version": "1.0", "duration": 10, "size": "small"}


@override_settings(SUBMIT_RATE_LIMIT=(10, 600))
class RateLimitConcurrencyTests(TransactionTestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.agency = Team.objects.create(name="Agency")
        self.alice = make_member("alice", self.studio)
        # Her second team: its row is another lock, so only the lock on her own row keeps the count.
        Membership.objects.create(team=self.agency, user=self.alice)

    def batch(self, team: Team, prompts: int) -> Callable[[], Any]:
        return lambda: submit.create_jobs(
            team=team,
            user=self.alice,
            simulated=True,
            params=PARAMS,
            prompts=[f"a fox, take {n}" for n in range(prompts)],
        )

    def test_it_twelve_batch_submits_in_two_teams_never_pass_the_persons_limit(self) -> None:
        submits = [self.batch(team, 3) for team in (self.studio, self.agency)] * (SUBMITS // 2)
        made, refused, errors = all_at_once(submits, RateLimited)
        self.assertEqual(errors, [])
        self.assertEqual((made, refused), (3, SUBMITS - 3))  # 3 x 3 = 9 of 10: a fourth would make 12
        self.assertEqual(Generation.objects.filter(created_by=self.alice).count(), 9)

    def test_it_counts_reruns_and_submits_racing_each_other(self) -> None:
        original = make_finished(self.agency, self.alice)  # 1 of 10 already asked for
        reruns = [lambda: submit.rerun(original, self.alice, simulated=True)] * (SUBMITS // 2)
        made, refused, errors = all_at_once(
            reruns + [self.batch(self.studio, 1)] * (SUBMITS // 2), RateLimited
        )
        self.assertEqual(errors, [])
        self.assertEqual((made, refused), (9, SUBMITS - 9))
        self.assertEqual(Generation.objects.filter(created_by=self.alice).count(), 10)

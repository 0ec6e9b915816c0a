"""Prices in credits: defaults worked out from the capability table, a team's own overrides, and the admins'
page that lists every combination."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from sorastudio.billing.models import Combination, PriceOverride, combinations
from sorastudio.lib import capabilities
from sorastudio.teams.models import Team
from tests.helpers import TeamTestCase


def price(team: Team, **params: object) -> int:
    return PriceOverride.price_of(team, {"provider": "acedata", "version": "1.0", **params})


class DefaultPriceTests(TestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")

    def test_every_combination_the_capability_table_allows_is_priced_once(self) -> None:
        expected = sum(
            len(cap.durations) * max(1, len(cap.sizes)) * max(1, len(cap.qualities))
            for cap in capabilities.CAPABILITIES.values()
        )
        keys = [c.key for c in combinations()]
        self.assertEqual(len(keys), expected)
        self.assertEqual(len(set(keys)), expected)
        for combination in combinations():
            cap = capabilities.capability(combination.provider, combination.version, combination.model)
            assert cap is not None
            self.assertIn(combination.duration, cap.durations)
            self.assertGreater(combination.default_credits, 0)

    def test_longer_sharper_and_pro_videos_cost_more(self) -> None:
        self.assertEqual(price(self.studio, model="sora-2", duration=10, size="small"), 10)
        self.assertEqual(price(self.studio, model="sora-2", duration=15, size="small"), 15)
        self.assertEqual(price(self.studio, model="sora-2-pro", duration=15, size="small"), 45)
        self.assertEqual(price(self.studio, model="sora-2-pro", duration=25, size="large"), 125)
        self.assertEqual(price(self.studio, version="2.0", model="sora-2", duration=12, size="720x1280"), 12)
        self.assertEqual(price(self.studio, version="2.0", model="sora-2", duration=12, size="1792x1024"), 24)
        standard = price(self.studio, provider="sora2api", model="sora-2", duration=10, quality="standard")
        hd = price(self.studio, provider="sora2api", model="sora-2", duration=10, quality="hd")
        self.assertEqual((standard, hd), (10, 20))

    def test_a_team_price_overrides_the_default_for_that_team_only(self) -> None:
        agency = Team.objects.create(name="Agency")
        combination = Combination.of(
            {"provider": "acedata", "version": "1.0", "model": "sora-2", "size": "small", "duration": 10}
        )
        PriceOverride.set_price(self.studio, combination, 4, by=None)
        self.assertEqual(PriceOverride.price_of(self.studio, combination.fields()), 4)
        self.assertEqual(PriceOverride.price_of(agency, combination.fields()), 10)
        PriceOverride.set_price(self.studio, combination, None, by=None)
        self.assertEqual(PriceOverride.price_of(self.studio, combination.fields()), 10)

    def test_sora2api_jobs_are_priced_whatever_version_they_carry(self) -> None:
        params = {"provider": "sora2api", "model": "sora-2", "duration": 10, "quality": "hd"}
        combination = Combination.of(params)
        PriceOverride.set_price(self.studio, combination, 7, by=None)
        self.assertEqual(PriceOverride.price_of(self.studio, {**params, "version": "1.0"}), 7)


class PricePageTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.dana)
        self.url = reverse("studio:costs")

    def field(self, **params: object) -> str:
        base = {"provider": "acedata", "version": "1.0", "model": "sora-2", "size": "small", "duration": 10}
        return f"price-{Combination.of({**base, **params}).key}"

    def test_only_admins_see_it(self) -> None:
        for person in (self.alice, self.bob):
            self.client.force_login(person)
            self.assertEqual(self.client.get(self.url).status_code, 403)
            self.assertEqual(self.client.post(self.url, {self.field(): "1"}).status_code, 403)
        self.assertFalse(PriceOverride.objects.exists())

    def test_it_lists_every_combination_with_its_default(self) -> None:
        response = self.client.get(self.url)
        self.assertEqual(response.content.decode().count('name="price-'), len(combinations()))
        self.assertContains(response, "AceDataCloud · Version 1.0 · Sora 2 Pro")
        self.assertContains(response, f'name="{self.field(model="sora-2-pro", duration=25, size="large")}"')
        self.assertContains(response, 'placeholder="125"')

    def test_it_saves_a_price_and_an_empty_field_means_the_default(self) -> None:
        response = self.client.post(self.url, {self.field(): "4", self.field(duration=15): ""})
        self.assertRedirects(response, self.url)
        self.assertEqual(PriceOverride.objects.get(team=self.studio).credits, 4)
        self.client.post(self.url, {self.field(): ""})
        self.assertFalse(PriceOverride.objects.exists())

    def test_a_price_that_is_not_a_number_is_refused_beside_its_field(self) -> None:
        response = self.client.post(self.url, {self.field(): "4", self.field(duration=15): "cheap"})
        self.assertContains(response, "Give a whole number of credits", status_code=400)
        self.assertContains(response, 'value="cheap"', status_code=400)
        self.assertFalse(PriceOverride.objects.exists())

    def test_each_team_sets_its_own_prices(self) -> None:
        self.client.post(self.url, {self.field(): "4"})
        self.client.force_login(self.carol)
        self.client.post(self.url, {self.field(): "7"})
        prices = dict(PriceOverride.objects.values_list("team__name", "credits"))
        self.assertEqual(prices, {"Studio": 4, "Agency": 7})

"""Date fields show and read the studio's format for the page's language, and ISO, the addresses' format."""

from __future__ import annotations

from datetime import date

from django.test import SimpleTestCase
from django.utils import translation

from sorastudio.lib.dates import StudioDateField, StudioDateInput

NOV_3 = date(2026, 11, 3)


class StudioDateFieldTests(SimpleTestCase):
    def test_it_shows_the_day_in_the_format_of_each_language_not_the_browsers(self) -> None:
        for language, shown in (("en", "3 Nov 2026"), ("zh-hans", "2026年11月3日")):
            with self.subTest(language=language), translation.override(language):
                html = StudioDateInput().render("start", "2026-11-03")
                self.assertIn('type="text"', html)
                self.assertIn(f'value="{shown}"', html)
                self.assertIn('data-iso="2026-11-03"', html)

    def test_it_reads_iso_and_the_format_of_each_language(self) -> None:
        typed = {
            "en": ["2026-11-03", "3 Nov 2026", "03 nov 2026", "3 November 2026"],
            "zh-hans": ["2026-11-03", "2026年11月3日", "2026/11/3"],
        }
        for language, values in typed.items():
            for value in values:
                with self.subTest(language=language, value=value), translation.override(language):
                    self.assertEqual(StudioDateField().clean(value), NOV_3)

    def test_it_says_which_formats_it_takes_when_it_cannot_read_a_date(self) -> None:
        for language, example in (("en", "3 Nov 2026"), ("zh-hans", "2026年11月3日")):
            with self.subTest(language=language), translation.override(language):
                field = StudioDateField()
                with self.assertRaisesMessage(Exception, example):
                    field.clean("11/03/2026")
                self.assertIn('value="11/03/2026"', StudioDateInput().render("start", "11/03/2026"))

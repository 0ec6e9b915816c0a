"""The studio's date formats, one per language (settings.FORMAT_MODULE_PATH): every page writes a day one
way in each language, "3 Nov 2026" or "2026年11月3日", and a chart's or a card's short day "3 Nov" or
"11月3日". Templates say `|date:"DATE_FORMAT"` or `"SHORT_DATE_FORMAT"`, Python `formats.date_format`."""

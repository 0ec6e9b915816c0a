# Day before month, the month in letters: read the same way on either side of the Atlantic.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M, H:i"
# What the date fields accept: the studio's own format ("3 Nov 2026", the month's name in full too) and ISO,
# which the addresses of filtered pages carry. strptime reads month names in English, the C locale's.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %b %Y", "%d %B %Y"]

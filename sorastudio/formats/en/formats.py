# Day before month, the month in letters: read the same way on either side of the Atlantic.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M, H:i"

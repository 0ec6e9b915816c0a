DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "n月j日 H:i"
# What the date fields accept: the studio's own format (2026年11月3日) and ISO, which the addresses of
# filtered pages carry.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y年%m月%d日", "%Y/%m/%d"]

"""Simplified Chinese display formats: one date format and one date-time format everywhere.

Django's own zh_Hans formats mix "2016年9月5日" with the ISO dates of our tables and exports and
group numbers by four digits without a separator; Chinese business software writes dates
2026-03-05 and amounts ¥1,234.50 (three-digit groups with a comma), so these do too.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "Y-m"  # as the cohort table's months
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

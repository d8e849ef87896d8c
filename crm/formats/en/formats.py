"""English display formats: one date format and one date-time format everywhere (FORMAT_MODULE_PATH).

Templates show dates with ``|date`` (DATE_FORMAT) or ``|date:"SHORT_DATE_FORMAT"`` (the same
format), never a hard-coded one (tests/crm/test_display_formats.py). ISO order, as in the
exports and the import files, so a date reads the same on a page and in a spreadsheet.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

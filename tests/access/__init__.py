"""The URL-by-role matrix: one module per app lists every route and who may use it.

tests/crm/test_url_access.py walks every URL pattern Django knows and fails when one is
missing here, so a new view cannot ship without its "who may" and "who may not" checks.
"""

"""Where a value is checked: the rules of the format and `validate`, which returns a report.
May import `read` and `format`; never `consolidate` or `outputs`.
"""

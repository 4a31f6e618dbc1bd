"""Where a value comes in: discovery of files, safety limits, French value parsing, sheets into records.
May import `format` (and `errors`); never `check`, `consolidate` or `outputs`.
"""

"""Where a value is checked: the rules of the format and `validate`, which returns a report.
May import `read` and `format`; never `consolidate` or `outputs`.
"""

# The rules register their kinds (code, severity, title, message) into the issue catalogue of
# format/issues.py: whatever imports this stage sees the whole catalogue.
from pvd_reporting.check import checks as checks

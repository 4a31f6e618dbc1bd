"""Where values are summed: batch reading (with its cache), identity and duplicates, the regional
view, and who the reminders chase (chase.py).
May import `check`, `read`, `format` and `cache` (its report entries); never `outputs`.
"""

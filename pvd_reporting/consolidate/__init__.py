"""Where values are summed: batch reading (with its cache), identity and duplicates, the regional view.
May import `check`, `read` and `format`; never `outputs`.
"""

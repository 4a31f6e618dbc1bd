"""Where everything is written: territory workbooks, the summary, the dashboard and charts, reports.
May import every stage below it; only `pipeline` and `cli` import it.
"""

"""The HTML dashboard and the charts of `graphiques-<period>/` (plotly; Jinja templates beside the code, their long style and scripts in static/).
May import `atomic` and the stages below `outputs`; plotly only inside functions.
"""

"""The HTML dashboard and the charts of `graphiques-<period>/` (plotly, Jinja template beside the code).
May import `outputs.atomic` and the stages below `outputs`; plotly only inside functions.
"""

"""The regional summary workbook `synthese-pvd-<period>.xlsx`: its sheets, native charts and streamed rows.
May import `outputs.atomic`, `outputs.anomalies` and the stages below `outputs`.
"""

"""The workbook format and its vocabulary: schema, configuration, reference list, periods, issue catalogue.
Imports nothing else of pvd_reporting but `errors`: every other stage builds on it.
"""

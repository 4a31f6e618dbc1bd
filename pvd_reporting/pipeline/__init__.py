"""The three commands as library functions: each runs the stages in order and returns what it did.
May import every stage (format, read, check, consolidate, outputs); only `cli` imports it.
"""

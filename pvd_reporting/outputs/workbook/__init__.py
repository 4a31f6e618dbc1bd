"""The workbooks a territory receives: the blank or pre-filled template and the feedback workbook.
May import `atomic` and the stages below `outputs`.
"""

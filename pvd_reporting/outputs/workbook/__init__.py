"""The workbooks a territory receives: the blank or pre-filled template and the feedback workbook.
May import `outputs.atomic` and the stages below `outputs`.
"""

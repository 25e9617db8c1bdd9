"""Workchain inputs that are not workchains: pw.x choices, pipeline steps, site labels.

Also the route 2 reference SCFs and the checks of NA requests.
"""

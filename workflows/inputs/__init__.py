"""Inputs of the workchains that are not workchains: pw.x choices, reference SCFs, request checks, site labels."""

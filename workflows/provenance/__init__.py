"""Provenance queries, process trees and status, and the study report."""

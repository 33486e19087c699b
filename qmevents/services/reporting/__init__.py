"""Figures: one event's report and the SQL pieces that define each figure once (reports.py), the
dashboards per district and organisation, and the campaign summary in press style (digest.py,
phrases.py)."""

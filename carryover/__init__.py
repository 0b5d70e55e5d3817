"""The carryover across a change of units (1 July 2025) as one feature: its workflow
(`workflow.py`), its activities (`activities.py`: candidates from the records store, then
Temporal visibility; each dossier moved by its `transfer` Update), its models (`models.py`)
and the client code that starts, follows and schedules it (`client.py`). `cli/carryover.py`
is its command line. Design, rules and figures: docs/carryover.md.
"""

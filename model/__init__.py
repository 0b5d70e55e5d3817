"""The dossier's shared models, below everything that uses them.

State, update inputs and their bounds, the view with its transfer facts, errors, search
attribute keys and the projection's records: pydantic models and constants with no I/O,
imported by the workflows, the activities, the records store and the entry points alike.
This package imports only `procedures/` and `adminunits/` of ours (the import contracts in
pyproject.toml keep it so).
"""

"""What auditors and operators read about dossiers, apart from the store that keeps them.

Temporal's history as a timeline beside the audit trail (`history.py`), the hash chains
recomputed and compared with Temporal (`verify.py`, `lag.py`), search and export
(`search.py`), the service report (`reports.py`), and the dossiers whose projection the
store refused (`projection_failures.py`). `cli/audit.py` and `api/routes/audit.py` serve them.
The store itself (database, tables, migrations, hash chain) stays in `records/`.
"""

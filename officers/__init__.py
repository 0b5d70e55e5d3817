"""Officers as the entry points see them: who they are (signed tokens), what they may do to a
dossier (the authorization policy), and what waits for them (the inbox).

Shared by the HTTP API and the command line; the workflow's validator stays the last word.
"""

"""The hash chain of a dossier's audit trail: each event's hash covers the one before it.

hash(n) = SHA-256 of "dossier code | seq | hash(n-1) | payload", with hash(0) = 64 zeros.
An edited payload, a deleted or a moved row breaks the chain at that point; rewriting every
later hash as well is only caught by comparing the head with the dossiers row (or with
Temporal's history, see audit.history). This formula is frozen: the migrations and
existing rows depend on it.
"""

from __future__ import annotations

import hashlib

__all__ = ["GENESIS", "event_hash"]

GENESIS = "0" * 64


def event_hash(dossier_code: str, seq: int, prev_hash: str, payload: str) -> str:
    material = "\x1f".join((dossier_code, str(seq), prev_hash, payload))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()

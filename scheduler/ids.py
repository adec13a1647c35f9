"""Opaque, prefixed identifiers (e.g. `cln_3f9a...`)."""

from __future__ import annotations

import secrets

PREFIXES = frozenset({"cln", "key", "pat", "aud", "pln", "rpt", "vis", "dec", "whk", "evt",
                       "msg", "dlv", "cal", "wif", "stf", "lgf", "con", "chk"})


def new_id(prefix: str) -> str:
    """A fresh random id: `<prefix>_` plus 20 lowercase hex characters (80 bits)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{secrets.token_hex(10)}"

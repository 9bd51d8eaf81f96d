# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Revert data out of whatever a node or web3 raised, in every shape the common nodes use.

anvil and Hardhat: web3's ContractCustomError with `data` "0x…"; ganache: a dict with `result` "0x…"
(besides `hash` and `programCounter`); geth and Besu: `data` "0x…" or `{"data": "0x…"}`; Hardhat 2:
`{"originalError": {"data": "0x…"}}`; Nethermind: "Reverted 0x…" in the message; eth-tester: the bytes
as an argument. Free of web3 so that it can be tested alone.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# Keys that may hold revert data, in the order they are trusted; `hash` and friends are never data.
_DATA_KEYS = ("data", "result", "originalError", "error", "revertData", "output")
_IN_TEXT = re.compile(r"(?:revert(?:ed)?|data)[^0-9a-zA-Z]{0,4}(0x[0-9a-fA-F]{8,})", re.IGNORECASE)
_MAX_DEPTH = 6


def revert_data(error):
    """The revert data bytes carried by `error` (an exception, dict, string or bytes), b'' if none."""
    found = _walk(error, 0)
    return found if found is not None else b""


def _walk(value, depth):
    if depth > _MAX_DEPTH or value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value) if len(value) >= 4 else None
    if isinstance(value, str):
        return _hex(value.strip()) or _from_text(value)
    if isinstance(value, dict):
        for key in _DATA_KEYS:
            found = _walk(value.get(key), depth + 1)
            if found is not None:
                return found
        return _from_text(value.get("message")) if isinstance(value.get("message"), str) else None
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _walk(item, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(value, BaseException):
        for candidate in (getattr(value, "data", None), getattr(value, "rpc_response", None),
                          getattr(value, "args", ())):
            found = _walk(candidate, depth + 1)
            if found is not None:
                return found
        return _from_text(str(value))
    return None


def _hex(text):
    """Bytes of a 0x-hex string of at least 4 bytes (a selector); None for anything else."""
    if not text.startswith("0x") or len(text) < 10 or len(text) % 2:
        return None
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        return None


def _from_text(text):
    if not isinstance(text, str):
        return None
    match = _IN_TEXT.search(text)
    return _hex(match.group(1)) if match else None


def node_message(error):
    """The first line of what the node said (web3 wraps a JSON-RPC error's dict, stack traces and all)."""
    for response in (getattr(error, "rpc_response", None), getattr(error, "args", (None,))[:1][0] if getattr(
            error, "args", None) else None):
        if isinstance(response, dict):
            inner = response.get("error", response)
            if isinstance(inner, dict) and isinstance(inner.get("message"), str) and inner["message"].strip():
                return inner["message"].strip().splitlines()[0][:300]
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__

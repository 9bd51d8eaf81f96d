# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
"""Conversions between what users write in Ansible and what the REB contract stores.

Pure Python (no web3) so it is cheap to import and easy to unit test.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import struct

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import device_text, parse_device
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import (  # noqa: F401 (the states are codec's too)
    OFFER_STATES, RESERVATION_STATES, RebError)
ACTIVE_RESERVATION_STATES = ("requested", "accepted")

# Offer fields with the range their Solidity type allows (uint8/16/32/40/96).
UINT_LIMITS = {
    "tier": 2 ** 8 - 1,
    "cpu_millicores": 2 ** 32 - 1,
    "memory_mib": 2 ** 32 - 1,
    "storage_gib": 2 ** 32 - 1,
    "price_per_hour": 2 ** 96 - 1,
    "min_hours": 2 ** 16 - 1,
    "max_hours": 2 ** 16 - 1,
    "available_from": 2 ** 40 - 1,
    "available_until": 2 ** 40 - 1,
}
AVAILABLE_FOREVER = 2 ** 40 - 1
ED25519 = b"ssh-ed25519"


def check_range(name, value, minimum=0):
    maximum = UINT_LIMITS[name]
    if value < minimum or value > maximum:
        raise RebError("%s=%s is out of range: it must be between %d and %d." % (name, value, minimum, maximum))


def offer_spec(params):
    """Validated contract OfferSpec tuple from module parameters (snake_case)."""
    for name, minimum in (("cpu_millicores", 1), ("memory_mib", 1), ("price_per_hour", 1), ("min_hours", 1),
                          ("max_hours", 1), ("tier", 0), ("storage_gib", 0), ("available_from", 0),
                          ("available_until", 1)):
        check_range(name, params[name], minimum)
    if params["max_hours"] < params["min_hours"]:
        raise RebError("max_hours=%d is below min_hours=%d: raise max_hours or lower min_hours."
                       % (params["max_hours"], params["min_hours"]))
    if params["available_until"] <= params["available_from"]:
        raise RebError("available_until=%d is not after available_from=%d." % (params["available_until"],
                                                                               params["available_from"]))
    if not params["region"]:
        raise RebError("region must not be empty: give the FogAtlas region id of the node, e.g. SEOUL-KETI.")
    devices = [device_string(d) for d in params.get("devices") or []]
    for name, value in (("node_id", params["node_id"]), ("region", params["region"]),
                        ("location", location_string(params.get("location") or "")),
                        ("architecture", params["architecture"]), ("devices", ",".join(devices))):
        check_length(name, value)
    return (params["node_id"], params["region"], params["tier"], location_string(params.get("location") or ""),
            params["cpu_millicores"], params["memory_mib"], params["storage_gib"], params["architecture"],
            ",".join(devices), params["price_per_hour"], params["min_hours"], params["max_hours"],
            params["available_from"], params["available_until"])


# Longest strings the REB accepts (bytes of UTF-8): MAX_NAME, and MAX_TEXT for lists and endpoints.
MAX_LENGTHS = {"devices": 256, "access_endpoint": 256, "reason": 256}
MAX_NAME = 64


def check_length(name, value):
    """A clear error for a string longer than the REB accepts (it would revert with TooLong)."""
    maximum = MAX_LENGTHS.get(name, MAX_NAME)
    length = len(str(value).encode("utf-8"))
    if length > maximum:
        raise RebError("%s is %d bytes long; the REB accepts at most %d: shorten it." % (name, length, maximum))


def device_string(device):
    """'camkor1:camera' from a string or a {'id':..., 'kind':...} mapping (fog_host_model.parse_device); the REB
    lists devices with a kind, separated by commas."""
    parsed = parse_device(device)
    if parsed is None or not parsed["kind"] or "," in device_text(parsed):
        shown = device_text(parsed) if parsed else str(device).strip()
        raise RebError("device %r is not of the form '<id>:<kind>' (for example 'camkor1:camera')." % shown)
    return device_text(parsed)


def parse_devices(text):
    """The devices of an offer's comma-separated list; an entry that names no device (no id) is left out."""
    return [d for d in (parse_device(entry) for entry in text.split(",") if entry) if d is not None]


def location_string(location):
    """Normalise 'lat,lon' (FogAtlas style); '' means unknown."""
    if not location:
        return ""
    try:
        lat, lon = (float(x) for x in str(location).split(","))
    except ValueError:
        raise RebError("location %r is not 'lat,lon' in decimal degrees, e.g. '37.5665,126.9780'." % location)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RebError("location %r is outside the globe (lat -90..90, lon -180..180)." % location)
    return str(location).replace(" ", "")


def parse_location(text):
    if not text:
        return None
    lat, lon = (float(x) for x in text.split(","))
    return lat, lon


def offer_state(offer_id, o):
    """Snake_case view of a contract Offer record (numbers, state and terms hash; the strings are in events)."""
    return {
        "id": offer_id,
        "seller": o[0],
        "price_per_hour": o[1],
        "state": OFFER_STATES[o[2]],
        "tier": o[3],
        "cpu_millicores": o[4],
        "memory_mib": o[5],
        "storage_gib": o[6],
        "min_hours": o[7],
        "max_hours": o[8],
        "available_from": o[9],
        "available_until": o[10],
        "active_reservation": o[11],
        "terms_hash": "0x" + bytes(o[12]).hex(),
    }


def reservation_dict(reservation_id, r, indexed, accept_window):
    """Snake_case view of a contract Reservation record joined with what its events said (`indexed`:
    the market index's entry), keys in OpenSSH text form. The buyer's key and the access details are
    shown while the reservation is live, as before REB v2 cleared them when it ended."""
    state = RESERVATION_STATES[r[3]]
    live = state in ACTIVE_RESERVATION_STATES
    key = bytes.fromhex(indexed.get("buyer_key") or "")
    fingerprint = bytes.fromhex(indexed.get("host_key_fingerprint") or "")
    return {
        "id": reservation_id,
        "buyer": r[0],
        "offer_id": r[1],
        "hours": r[2],
        "state": state,
        "escrow": r[5],
        "requested_at": r[6],
        "accepted_at": r[7],
        "ends_at": r[8],
        "accept_deadline": r[6] + accept_window,
        "order_ref": indexed.get("order_ref", ""),
        "terms_hash": indexed.get("terms_hash", ""),
        "buyer_public_key": public_key_line(key, "decenter-reb-%d" % reservation_id) if live and any(key) else "",
        "host_key_fingerprint": fingerprint_string(fingerprint) if live and any(fingerprint) else "",
        "access_endpoint": indexed.get("access_endpoint", "") if live else "",
        "reject_reason": indexed.get("reject_reason", ""),
        "paid_to_seller": indexed.get("to_seller", 0),
    }


def rental_account(reservation, now):
    """(seconds left, wei spent so far) of a reservation at chain time `now`, as the REB pays it: an accepted rental
    costs its escrow pro rata of the time used (the contract's _timeShare, rounded down), a requested one has
    its answer window left and costs nothing yet, an ended one cost what the seller was paid (its event's share)."""
    state = reservation["state"]
    if state == "accepted":
        ends, started, escrow = reservation["ends_at"], reservation["accepted_at"], reservation["escrow"]
        used = min(max(0, now - started), ends - started)
        return ends - started - used, escrow * used // (ends - started) if ends > started else escrow
    if state == "requested":
        return max(0, reservation["accept_deadline"] - now), 0
    return 0, reservation.get("paid_to_seller", 0)


SPEC_ABI_TYPE = "(string,string,uint8,string,uint32,uint32,uint32,string,string,uint96,uint16,uint16,uint40,uint40)"


def terms_hash(spec):
    """keccak256(abi.encode(spec)) as the REB computes it, 0x-prefixed hex (needs eth_abi/eth_utils)."""
    from eth_abi import encode
    from eth_utils import keccak
    return "0x" + keccak(encode([SPEC_ABI_TYPE], [tuple(spec)])).hex()


def order_ref_bytes(order_ref):
    """The bytes32 the REB stores for a buyer's order reference text: its keccak256."""
    from eth_utils import keccak
    text = str(order_ref or "").strip()
    if not text:
        raise RebError("order_ref must not be empty: give a reference of your own for this order, e.g. "
                       "'federate-ocr-2026-12-05'.")
    return keccak(text=text)


def offer_differences(current, spec):
    """Names of the fields of an existing offer dict that `spec` (an OfferSpec tuple) changes."""
    wanted = {
        "region": spec[1], "tier": spec[2], "location": spec[3], "cpu_millicores": spec[4],
        "memory_mib": spec[5], "storage_gib": spec[6], "architecture": spec[7], "devices": parse_devices(spec[8]),
        "price_per_hour": spec[9], "min_hours": spec[10], "max_hours": spec[11], "available_from": spec[12],
        "available_until": spec[13],
    }
    return sorted(k for k, v in wanted.items() if current[k] != v), wanted


# --------------------------------------------------------------- SSH keys and host-key fingerprints

def _ssh_string(data, offset):
    (length,) = struct.unpack(">I", data[offset:offset + 4])
    return data[offset + 4:offset + 4 + length], offset + 4 + length


def ed25519_key_bytes(public_key):
    """The 32 raw bytes of an OpenSSH 'ssh-ed25519 AAAA... comment' public key line."""
    parts = str(public_key or "").split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise RebError("the provisioning public key must be an OpenSSH Ed25519 key ('ssh-ed25519 AAAA...'); "
                       "create one with: ssh-keygen -t ed25519")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        kind, offset = _ssh_string(blob, 0)
        key, offset = _ssh_string(blob, offset)
    except (ValueError, struct.error):
        raise RebError("the provisioning public key is not valid base64 OpenSSH key data.")
    if kind != ED25519 or len(key) != 32 or offset != len(blob):
        raise RebError("the provisioning public key is malformed: expected a 32-byte Ed25519 key.")
    return key


def public_key_line(key, comment):
    blob = struct.pack(">I", len(ED25519)) + ED25519 + struct.pack(">I", 32) + bytes(key)
    return "ssh-ed25519 %s %s" % (base64.b64encode(blob).decode(), comment)


def fingerprint_bytes(fingerprint):
    """32 bytes from an OpenSSH 'SHA256:<base64>' host-key fingerprint."""
    text = str(fingerprint or "")
    if not text.startswith("SHA256:"):
        raise RebError("host_key_fingerprint %r is not an OpenSSH SHA256 fingerprint ('SHA256:...'); "
                       "get it with: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" % text)
    body = text[len("SHA256:"):]
    try:
        digest = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise RebError("host_key_fingerprint %r does not hold a 32-byte SHA-256 digest." % text)
    return digest


def fingerprint_string(digest):
    return "SHA256:" + base64.b64encode(bytes(digest)).decode().rstrip("=")


def fingerprint_of_public_key(public_key):
    """OpenSSH SHA256 fingerprint of a public key line (what `ssh-keygen -lf` prints)."""
    parts = str(public_key).split()
    if len(parts) < 2:
        raise RebError("not an OpenSSH public key line: %r" % public_key)
    return fingerprint_string(hashlib.sha256(base64.b64decode(parts[1])).digest())


# --------------------------------------------------------------- fast ABI decoding of view pages

def decode_struct_array(data, kinds, address=lambda a: a):
    """Decode the return data of a view returning `Struct[]` whose fields are static words or strings.

    `kinds` lists each field as 'address', 'uint', 'bytes32' or 'string' (see struct_kinds);
    `address` formats addresses (the client passes eth_utils' to_checksum_address).
    Generic ABI decoding (eth_abi + web3's formatters) costs ~2.5 ms per record; this costs ~0.03 ms.
    Checked against eth_abi in the tests.
    """
    start = _word(data, 0)
    count = _word(data, start)
    heads = start + 32
    if any(k == "string" for k in kinds):
        return [decode_tuple(data, heads + _word(data, heads + 32 * i), kinds, address) for i in range(count)]
    size = 32 * len(kinds)  # static structs are stored inline, one after the other
    return [decode_tuple(data, heads + size * i, kinds, address) for i in range(count)]


def _word(data, at):
    return int.from_bytes(data[at:at + 32], "big")


def decode_tuple(data, base, kinds, address=lambda a: a):
    """Decode an ABI tuple starting at `base`; a nested tuple of kinds is a dynamic struct (its head holds
    its offset from `base`). Used for view records and event data (the market index)."""
    row = []
    for j, kind in enumerate(kinds):
        at = base + 32 * j
        if isinstance(kind, tuple):
            row.append(decode_tuple(data, base + _word(data, at), kind, address))
        elif kind == "string":
            offset = base + _word(data, at)
            length = _word(data, offset)
            row.append(data[offset + 32:offset + 32 + length].decode("utf-8", "replace"))
        elif kind == "bytes32":
            row.append(bytes(data[at:at + 32]))
        elif kind == "address":
            row.append(address("0x" + data[at + 12:at + 32].hex()))
        else:
            row.append(_word(data, at))
    return tuple(row)


def struct_kinds(abi, function):
    """Field kinds of the struct array that `function` returns, read from the ABI."""
    entry = next(e for e in abi if e.get("type") == "function" and e["name"] == function)
    kinds = []
    for component in entry["outputs"][0]["components"]:
        t = component["type"]
        if t == "string":
            kinds.append("string")
        elif t == "address":
            kinds.append("address")
        elif t == "bytes32":
            kinds.append("bytes32")
        elif t.startswith(("uint", "int")) and not t.startswith("int"):
            kinds.append("uint")
        else:
            raise ValueError("field %s of type %s is not supported by decode_struct_array" % (component["name"], t))
    return kinds

"""Unit tests of the pure conversions between Ansible values and the REB's storage."""
import base64
import hashlib
import subprocess

import pytest
from eth_abi import encode as abi_encode
from hypothesis import given, settings, strategies as st

from ansible_collections.decenter.fog.plugins.module_utils import reb_codec as codec
from ansible_collections.decenter.fog.plugins.module_utils.reb_artifact import REB_ARTIFACT
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

OFFER_PARAMS = dict(node_id="seoul-keti", region="SEOUL-KETI", tier=1, location="37.5665, 126.9780",
                    cpu_millicores=2000, memory_mib=2048, storage_gib=10, architecture="amd64",
                    devices=["camkor1:camera", {"id": "mic1", "kind": "microphone"}], price_per_hour=10 ** 15,
                    min_hours=1, max_hours=720, available_from=0, available_until=codec.AVAILABLE_FOREVER)


def test_offer_spec_normalises_location_and_devices():
    spec = codec.offer_spec(OFFER_PARAMS)
    assert spec[3] == "37.5665,126.9780"
    assert spec[8] == "camkor1:camera,mic1:microphone"
    assert codec.parse_devices(spec[8]) == [{"id": "camkor1", "kind": "camera"}, {"id": "mic1", "kind": "microphone"}]


@pytest.mark.parametrize("change, message", [
    (dict(tier=256), "tier=256 is out of range"),
    (dict(price_per_hour=2 ** 96), "price_per_hour=%d is out of range" % 2 ** 96),
    (dict(cpu_millicores=0), "cpu_millicores=0 is out of range"),
    (dict(min_hours=5, max_hours=2), "max_hours=2 is below min_hours=5"),
    (dict(available_from=10, available_until=10), "available_until=10 is not after available_from=10"),
    (dict(location="north"), "location 'north' is not 'lat,lon'"),
    (dict(location="95,10"), "outside the globe"),
    (dict(devices=["camkor1"]), "device 'camkor1' is not of the form"),
    (dict(region=""), "region must not be empty"),
])
def test_offer_spec_rejects_bad_values_with_a_sentence(change, message):
    with pytest.raises(RebError, match=message.replace("(", r"\(").replace(")", r"\)")):
        codec.offer_spec(dict(OFFER_PARAMS, **change))


def test_ed25519_key_round_trip_matches_ssh_keygen(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "buyer", "-f", str(tmp_path / "k")],
                   check=True)
    line = (tmp_path / "k.pub").read_text().strip()
    raw = codec.ed25519_key_bytes(line)
    assert len(raw) == 32
    assert codec.public_key_line(raw, "buyer").split()[:2] == line.split()[:2]
    printed = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], check=True,
                             capture_output=True, text=True).stdout.split()[1]
    assert codec.fingerprint_of_public_key(line) == printed
    assert codec.fingerprint_string(codec.fingerprint_bytes(printed)) == printed


@pytest.mark.parametrize("key, message", [
    ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x", "must be an OpenSSH Ed25519 key"),
    ("ssh-ed25519 !!!notbase64", "not valid base64"),
    ("ssh-ed25519 " + base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0\x03abc").decode(), "malformed"),
    ("", "must be an OpenSSH Ed25519 key"),
])
def test_bad_public_keys(key, message):
    with pytest.raises(RebError, match=message):
        codec.ed25519_key_bytes(key)


@pytest.mark.parametrize("value", ["MD5:aa:bb", "SHA256:short", "SHA256:" + "A" * 60])
def test_bad_fingerprints(value):
    with pytest.raises(RebError, match="host_key_fingerprint"):
        codec.fingerprint_bytes(value)


def test_fingerprint_of_known_digest():
    digest = hashlib.sha256(b"x").digest()
    text = codec.fingerprint_string(digest)
    assert text.startswith("SHA256:") and not text.endswith("=")
    assert codec.fingerprint_bytes(text) == digest


offer_rows = st.lists(st.tuples(
    st.integers(0, 2 ** 160 - 1), st.integers(0, 2 ** 96 - 1), st.integers(0, 3), st.integers(0, 255),
    st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1),
    st.integers(0, 2 ** 16 - 1), st.integers(0, 2 ** 16 - 1), st.integers(0, 2 ** 40 - 1),
    st.integers(0, 2 ** 40 - 1), st.integers(0, 2 ** 32 - 1), st.binary(min_size=32, max_size=32),
), max_size=6)


@settings(max_examples=60, deadline=None)
@given(offer_rows)
def test_fast_decoder_agrees_with_eth_abi(rows):
    """decode_struct_array must read exactly what the ABI encodes for getOffersById (fixed-size records)."""
    entry = next(e for e in REB_ARTIFACT["abi"] if e.get("name") == "getOffersById")
    types = [c["type"] for c in entry["outputs"][0]["components"]]
    values = [tuple(("0x%040x" % v) if t == "address" else v for t, v in zip(types, row)) for row in rows]
    data = abi_encode(["(%s)[]" % ",".join(types)], [values])
    decoded = codec.decode_struct_array(data, codec.struct_kinds(REB_ARTIFACT["abi"], "getOffersById"))
    assert decoded == [tuple(v) for v in values]


spec_strings = st.text(max_size=70)


@settings(max_examples=60, deadline=None)
@given(st.tuples(spec_strings, spec_strings, st.integers(0, 255), spec_strings, st.integers(0, 2 ** 32 - 1),
                 st.integers(0, 2 ** 32 - 1), st.integers(0, 2 ** 32 - 1), spec_strings, spec_strings,
                 st.integers(0, 2 ** 96 - 1), st.integers(0, 2 ** 16 - 1), st.integers(0, 2 ** 16 - 1),
                 st.integers(0, 2 ** 40 - 1), st.integers(0, 2 ** 40 - 1)), st.binary(min_size=32, max_size=32))
def test_event_data_decoder_agrees_with_eth_abi(spec, digest):
    """The market index decodes OfferPublished's data (a string, the OfferSpec struct, a hash) with decode_tuple."""
    from ansible_collections.decenter.fog.plugins.module_utils.reb_index import SPEC_KINDS
    data = abi_encode(["string", codec.SPEC_ABI_TYPE, "bytes32"], [spec[0], spec, digest])
    assert codec.decode_tuple(data, 0, ("string", SPEC_KINDS, "bytes32")) == (spec[0], spec, digest)


def test_reservation_pages_decode_and_join_their_events():
    entry = next(e for e in REB_ARTIFACT["abi"] if e.get("name") == "getReservationsById")
    types = [c["type"] for c in entry["outputs"][0]["components"]]
    row = ("0x" + "ab" * 20, 7, 4, 2, 99, 10 ** 18, 1, 2, 3)
    data = abi_encode(["(%s)[]" % ",".join(types)], [[row, row]])
    decoded = codec.decode_struct_array(data, codec.struct_kinds(REB_ARTIFACT["abi"], "getReservationsById"))
    assert decoded == [row, row]
    indexed = dict(buyer_key="01" * 32, host_key_fingerprint="02" * 32, access_endpoint="198.18.0.21:22",
                   order_ref="0x" + "03" * 32, terms_hash="0x" + "04" * 32)
    as_dict = codec.reservation_dict(5, decoded[0], indexed, 3600)
    assert as_dict["state"] == "accepted" and as_dict["accept_deadline"] == 3601 and as_dict["escrow"] == 10 ** 18
    assert as_dict["buyer_public_key"].startswith("ssh-ed25519 ") and as_dict["buyer_public_key"].endswith(
        "decenter-reb-5")
    assert as_dict["host_key_fingerprint"] == codec.fingerprint_string(b"\x02" * 32)
    assert as_dict["access_endpoint"] == "198.18.0.21:22" and as_dict["order_ref"] == "0x" + "03" * 32
    ended = codec.reservation_dict(5, row[:3] + (6,) + row[4:], indexed, 3600)  # released: no key, no access
    assert ended["state"] == "released"
    assert (ended["buyer_public_key"], ended["host_key_fingerprint"], ended["access_endpoint"]) == ("", "", "")


def test_terms_hash_is_what_the_reb_computes():
    spec = codec.offer_spec(OFFER_PARAMS)
    # keccak256(abi.encode(spec)) of a memory struct: one tuple, encoded with its offset first
    data = abi_encode([codec.SPEC_ABI_TYPE], [spec])
    assert data[:32] == (32).to_bytes(32, "big")
    from eth_utils import keccak
    assert codec.terms_hash(spec) == "0x" + keccak(data).hex()
    assert codec.terms_hash(spec) != codec.terms_hash(codec.offer_spec(dict(OFFER_PARAMS, cpu_millicores=1)))


def test_offer_differences_names_changed_fields_only():
    spec = codec.offer_spec(OFFER_PARAMS)
    current = dict(zip(("node_id", "region", "tier", "location", "cpu_millicores", "memory_mib", "storage_gib",
                        "architecture", "devices", "price_per_hour", "min_hours", "max_hours", "available_from",
                        "available_until"), spec))
    current["devices"] = codec.parse_devices(current["devices"])
    assert codec.offer_differences(current, spec)[0] == []
    changed = codec.offer_spec(dict(OFFER_PARAMS, price_per_hour=2 * 10 ** 15, devices=[]))
    assert codec.offer_differences(current, changed)[0] == ["devices", "price_per_hour"]


@pytest.mark.parametrize("field, value, limit", [("node_id", "n" * 65, 64), ("region", "R" * 65, 64),
                                                  ("architecture", "a" * 65, 64),
                                                  ("devices", ["d%03d:camera" % i for i in range(30)], 256)])
def test_offer_spec_refuses_strings_the_reb_would_refuse(field, value, limit):
    with pytest.raises(RebError, match="%s is [0-9]+ bytes long; the REB accepts at most %d" % (field, limit)):
        codec.offer_spec(dict(OFFER_PARAMS, **{field: value}))


@given(hours=st.integers(1, 720), escrow=st.integers(0, 10 ** 24), offset=st.integers(-10 ** 6, 3 * 10 ** 6))
def test_rental_account_of_an_accepted_rental_is_the_rebs_pro_rata_share(hours, escrow, offset):
    accepted_at = 1764140000
    r = dict(state="accepted", accepted_at=accepted_at, ends_at=accepted_at + hours * 3600, escrow=escrow)
    now = accepted_at + offset
    time_left, cost = codec.rental_account(r, now)
    used = min(max(0, offset), hours * 3600)
    assert time_left == hours * 3600 - used
    assert cost == escrow * used // (hours * 3600), "the contract's _timeShare rounds the seller's share down"
    assert codec.rental_account(r, accepted_at) == (hours * 3600, 0)
    assert codec.rental_account(r, r["ends_at"] + 1) == (0, escrow)


def test_rental_account_of_requests_and_ended_reservations():
    requested = dict(state="requested", accept_deadline=1000, escrow=5)
    assert codec.rental_account(requested, 400) == (600, 0) and codec.rental_account(requested, 1400) == (0, 0)
    for state in ("released", "settled"):
        assert codec.rental_account(dict(state=state, paid_to_seller=7, escrow=9), 10 ** 10) == (0, 7)
    for state in ("rejected", "cancelled", "expired"):
        assert codec.rental_account(dict(state=state, paid_to_seller=0, escrow=9), 0) == (0, 0)

"""Every bad input gets a clear message, never a traceback, and sends nothing.

Every case of CASES (a task body in YAML, as a playbook holds it) runs in-process (tests/support/reb_inproc:
the module's run() with its arguments validated as the action plugin does), once for real and once in check
mode; each case is then a test of its own over the results. THROUGH_ANSIBLE, one case of every module, also
runs as tasks of a real playbook (ignore_errors): the message reaches the user through the action plugin."""
import re

import pytest
from eth_account import Account

from tests.reb_modules.conftest import A, B, C, play
from tests.support.chain import free_port
from tests.support.reb_inproc import run_module, yaml_task

PRICE = 1000
UINT96 = 2 ** 96


def offer_task(key, node_id, extra="", price=1000, region="SEOUL-KETI"):
    """A reb_offer task body: a valid offer of `node_id` signed with `key`, plus `extra` lines."""
    return """
decenter.fog.reb_offer:
  private_key: "{{ %s }}"
  node_id: %s
  region: "%s"
  cpu_millicores: 1000
  memory_mib: 1024
  price_per_hour: %d
%s""" % (key, node_id, region, price, extra)


# (case id, task body, message the task must fail with: a regular expression)
CASES = [
    # --- the chain, the contract, the key
    ("rpc unreachable", """
decenter.fog.reb_offer_info:
  rpc_url: "{{ closed_url }}"
""", r"cannot reach the Ethereum JSON-RPC endpoint http://127\.0\.0\.1:\d+ \(.+\)\. Check rpc_url"),
    ("wrong chain id", """
decenter.fog.reb_offer_info:
  chain_id: 1
""", r"serves chain id 31337 but chain_id=1 was asked for"),
    ("contract address without code", """
decenter.fog.reb_offer_info:
  contract_address: "0xdededededededededededededededededededede"
""", r"no Resource Exchange Broker at 0x[0-9a-fA-F]{40} on chain 31337 .*holds no code"),
    ("contract address of another contract", """
decenter.fog.reb_reservation_info:
  contract_address: "{{ other_contract }}"
""", r"no Resource Exchange Broker at 0x[0-9a-fA-F]{40} on chain 31337 .*holds another contract"),
    ("contract address not an address", """
decenter.fog.reb_offer_info:
  contract_address: not-an-address
""", r"contract_address 'not-an-address' is not an Ethereum address"),
    ("contract address missing", """
decenter.fog.reb_withdraw:
  contract_address: ""
  private_key: "{{ key_a }}"
""", r"contract_address is not set"),
    ("contract with another accept window", """
decenter.fog.reb_contract:
  accept_window: 60
""", r"was deployed with accept_window=3600, not 60"),
    ("missing key for a write", """
decenter.fog.reb_provider:
  name: Provider C
""", r"no private key: set private_key .* or the environment variable DECENTER_REB_PRIVATE_KEY"),
    ("malformed key", """
decenter.fog.reb_withdraw:
  private_key: "0x1234"
""", r"private_key is not a valid Ethereum private key"),
    ("self without key", """
decenter.fog.reb_reservation_info:
  buyer: self
""", r"buyer=self needs private_key"),
    ("insufficient funds", """
decenter.fog.reb_reservation:
  private_key: "{{ key_poor }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"insufficient funds for reserve: account {addr_poor} .*Fund the account"),
    # --- hours and price (issue 16: the value given is named, the cheapest matching offer is said)
    ("zero hours", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_filters: {node_id: err-open}
  hours: 0
  buyer_public_key: "{{ buyer_public_key }}"
""", r"hours=0: a reservation lasts a whole number of hours, at least 1; give hours=1 or more"),
    ("negative hours", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_filters: {node_id: err-open}
  hours: -1
  buyer_public_key: "{{ buyer_public_key }}"
""", r"hours=-1: a reservation lasts a whole number of hours, at least 1"),
    ("max price below every matching offer", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_filters: {node_id: err-open}
  max_price_per_hour: 10
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"no open offer matching node_id=err-open for 2 hours costs at most max_price_per_hour=10 wei per hour; "
     r"the cheapest that does, offer {err-open} \(err-open\), costs 1000 wei per hour: raise max_price_per_hour "
     r"to 1000"),
    # --- offers that are not open
    ("reserve an offer another buyer holds", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-reserved'] }}"
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer {err-reserved} is already reserved \(reservation {r:err-reserved} of another buyer\)"),
    ("reserve a withdrawn offer", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-withdrawn'] }}"
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer {err-withdrawn} is not open \(it is withdrawn\); choose an open offer"),
    ("reserve an offer that does not exist", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: 999
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer 999 does not exist on this REB"),
    ("withdraw a rented offer", """
decenter.fog.reb_offer:
  private_key: "{{ key_b }}"
  node_id: err-accepted
  state: absent
""", r"offer {err-accepted} \(err-accepted\) is rented \(reservation {r:err-accepted} is accepted\): it can be "
     r"withdrawn when that rental ends"),
    ("update a reserved offer", offer_task("key_b", "err-accepted", "  max_hours: 10\n", price=5000),
     r"offer {err-accepted} \(err-accepted\) is reserved: it cannot be updated until its reservation ends "
     r"\(fields that would change: price_per_hour\)"),
    # --- someone else's offer or reservation
    ("reserve your own offer", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer {err-open} is your own: a seller cannot reserve its own node"),
    ("publish as an unregistered provider", offer_task("key_c", "err-open"),
     r"account {addr_c} is not a registered provider: register it first"),
    ("cancel someone else's request", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: cancelled
  reservation_id: "{{ reservations['err-reserved'] }}"
""", r"reservation {r:err-reserved} belongs to another buyer: account {addr_c} may not act on it"),
    ("release someone else's reservation", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: released
  reservation_id: "{{ reservations['err-accepted'] }}"
""", r"reservation {r:err-accepted} belongs to another buyer: account {addr_b} may not act on it"),
    ("accept a request for someone else's offer", """
decenter.fog.reb_reservation:
  private_key: "{{ key_a }}"
  state: accepted
  reservation_id: "{{ reservations['err-reserved'] }}"
  access_endpoint: "198.51.100.4:22"
  host_key_fingerprint: "{{ host_fingerprint }}"
""", r"reservation {r:err-reserved} is for another seller's offer: account {addr_a} may not answer it"),
    ("reject a request for someone else's offer", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: rejected
  reservation_id: "{{ reservations['err-reserved'] }}"
""", r"reservation {r:err-reserved} is for another seller's offer: account {addr_c} may not answer it"),
    ("cancel by offer without a reservation", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: cancelled
  offer_id: "{{ offers['err-open'] }}"
""", r"account {addr_c} has no reservation on offer {err-open}"),
    ("reservation that does not exist", """
decenter.fog.reb_reservation:
  private_key: "{{ key_a }}"
  state: cancelled
  reservation_id: 999
""", r"reservation 999 does not exist on this REB"),
    # --- steps the reservation's state does not allow
    ("accept a cancelled request", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: accepted
  reservation_id: "{{ reservations['err-cancelled'] }}"
  access_endpoint: "198.51.100.4:22"
  host_key_fingerprint: "{{ host_fingerprint }}"
""", r"reservation {r:err-cancelled} is cancelled; it must be requested to become accepted"),
    ("accept again with other access details", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: accepted
  reservation_id: "{{ reservations['err-accepted'] }}"
  access_endpoint: "198.51.100.5:2222"
  host_key_fingerprint: "{{ host_fingerprint }}"
""", r"reservation {r:err-accepted} was already accepted with endpoint 198\.51\.100\.4:22 .*an acceptance is final"),
    ("settle before the booked time ends", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: settled
  reservation_id: "{{ reservations['err-accepted'] }}"
""", r"reservation {r:err-accepted} runs until \d+ \(now \d+\): only its buyer may end it earlier"),
    # --- values out of range or malformed
    ("hours above max_hours", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 11
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer {err-open}: 11 hours is outside what the offer allows \(1 to 10 hours\); change hours"),
    ("max_price_per_hour below the price", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  max_price_per_hour: 999
  buyer_public_key: "{{ buyer_public_key }}"
""", r"offer {err-open} costs 1000 wei per hour, above max_price_per_hour=999; nothing was reserved"),
    ("price above uint96", offer_task("key_b", "err-new", price=UINT96),
     r"price_per_hour=%d is out of range: it must be between 1 and %d" % (UINT96, UINT96 - 1)),
    ("tier 300", offer_task("key_b", "err-new", "  tier: 300\n"),
     r"tier=300 is out of range: it must be between 0 and 255"),
    ("negative cpu", offer_task("key_b", "err-new").replace("cpu_millicores: 1000", "cpu_millicores: -1"),
     r"cpu_millicores=-1 is out of range: it must be between 1 and 4294967295"),
    ("max_hours below min_hours", offer_task("key_b", "err-new", "  min_hours: 5\n  max_hours: 2\n"),
     r"max_hours=2 is below min_hours=5"),
    ("availability ends before it starts",
     offer_task("key_b", "err-new", "  available_from: 2000000000\n  available_until: 1000000000\n"),
     r"available_until=1000000000 is not after available_from=2000000000"),
    ("empty region", offer_task("key_b", "err-new", region=""), r"region must not be empty"),
    ("malformed location", offer_task("key_b", "err-new", "  location: somewhere in Seoul\n"),
     r"location 'somewhere in Seoul' is not 'lat,lon' in decimal degrees"),
    ("location off the globe", offer_task("key_b", "err-new", '  location: "95.0,10.0"\n'),
     r"location '95\.0,10\.0' is outside the globe"),
    ("malformed device", offer_task("key_b", "err-new", "  devices: [camkor1]\n"),
     r"device 'camkor1' is not of the form '<id>:<kind>'"),
    ("fingerprint of another kind", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: accepted
  reservation_id: "{{ reservations['err-reserved'] }}"
  access_endpoint: "198.51.100.4:22"
  host_key_fingerprint: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"
""", r"host_key_fingerprint 'MD5:16:27.*' is not an OpenSSH SHA256 fingerprint"),
    ("fingerprint too short", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: accepted
  reservation_id: "{{ reservations['err-reserved'] }}"
  access_endpoint: "198.51.100.4:22"
  host_key_fingerprint: "SHA256:47DEQpj8HBSa"
""", r"host_key_fingerprint 'SHA256:47DEQpj8HBSa' does not hold a 32-byte SHA-256 digest"),
    ("empty access endpoint", """
decenter.fog.reb_reservation:
  private_key: "{{ key_b }}"
  state: accepted
  reservation_id: "{{ reservations['err-reserved'] }}"
  access_endpoint: ""
  host_key_fingerprint: "{{ host_fingerprint }}"
""", r"access_endpoint"),
    ("public key of another kind", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  buyer_public_key: "{{ rsa_public_key }}"
""", r"the provisioning public key must be an OpenSSH Ed25519 key"),
    ("public key not base64", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  buyer_public_key: "ssh-ed25519 AAAA!!!notbase64 someone@somewhere"
""", r"the provisioning public key is not valid base64 OpenSSH key data"),
    ("public key of the wrong length", """
decenter.fog.reb_reservation:
  private_key: "{{ key_c }}"
  state: requested
  offer_id: "{{ offers['err-open'] }}"
  hours: 2
  buyer_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAEAAAAAAAAAAAAAAAAAAAAAA= short"
""", r"the provisioning public key is malformed: expected a 32-byte Ed25519 key"),
    ("empty provider name", """
decenter.fog.reb_provider:
  private_key: "{{ key_c }}"
  name: "  "
""", r"name must not be empty"),
]
CASE_IDS = [c[0] for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)

RSA_PUBLIC_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDD1Zx1d9zx0t3zH3Q3b4G8dZ0uYqSgqYIuXoJ4U0xWm0Qy2tD5l3"
                  "vJQ0k1r8u2jV+9fM1o8T0pN1dQm3zT3V4R6xJm9nZ5S9b0YVv8c5rJ8m4c3pP2Ck1y7n5Qd4e0Q1aT3bX9vUe0t5Q2l"
                  "Q== rsa@example")


def deploy_other_contract(w3, sender):
    """A tiny contract (its runtime returns 42): code at an address that is not the REB."""
    runtime = "602a60005260206000f3"
    init = "600a600c600039600a6000f3" + runtime
    tx = w3.eth.send_transaction({"from": sender, "data": "0x" + init})
    address = w3.eth.wait_for_transaction_receipt(tx, timeout=30).contractAddress
    assert w3.eth.get_code(address).hex().removeprefix("0x") == runtime
    return address


@pytest.fixture(scope="module")
def market(reb, ssh_material):
    """A market with offers in every state (in-process)."""
    key_a, key_b = reb.keys[A], reb.keys[B]
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b)
    offer = dict(private_key=key_b, region="SEOUL-KETI", cpu_millicores=1000, memory_mib=1024, price_per_hour=PRICE,
                 max_hours=10)
    offers = dict((node, reb.ok("reb_offer", node_id=node, **offer)["offer"]["id"])
                  for node in ("err-open", "err-reserved", "err-accepted", "err-cancelled", "err-withdrawn",
                               "err-late"))
    reservations = dict((node, reb.ok("reb_reservation", private_key=key_a, state="requested", offer_id=offers[node],
                                      hours=2, buyer_public_key=ssh_material["buyer_public_key"])["reservation"]["id"])
                        for node in ("err-reserved", "err-accepted", "err-cancelled", "err-late"))
    reb.ok("reb_reservation", private_key=key_b, state="accepted", offer_id=offers["err-accepted"],
           access_endpoint="198.51.100.4:22", host_key_fingerprint=ssh_material["host_fingerprint"])
    reb.ok("reb_reservation", private_key=key_a, state="cancelled", offer_id=offers["err-cancelled"])
    reb.ok("reb_offer", private_key=key_b, node_id="err-withdrawn", state="absent")
    facts = dict(offers=offers, reservations=reservations)
    assert sorted(facts["reservations"]) == ["err-accepted", "err-cancelled", "err-late", "err-reserved"]
    poor = Account.create()
    assert reb.w3.eth.get_balance(poor.address) == 0
    facts.update(key_poor=poor.key.hex(), addr_poor=poor.address, closed_url="http://127.0.0.1:%d" % free_port(),
                 other_contract=deploy_other_contract(reb.w3, reb.accounts[9]), rsa_public_key=RSA_PUBLIC_KEY,
                 buyer_public_key=ssh_material["buyer_public_key"], host_fingerprint=ssh_material["host_fingerprint"])
    return facts


def expected(pattern, market, reb):
    """Fill {err-…} (offer ids), {r:err-…} (reservation ids) and {addr_…} into a case's pattern."""
    values = dict(("{%s}" % k, str(v)) for k, v in market["offers"].items())
    values.update(("{r:%s}" % k, str(v)) for k, v in market["reservations"].items())
    values = dict((k, re.escape(v)) for k, v in values.items())
    # Addresses decoded from a revert come in lower case, the others checksummed: either is fine.
    addresses = {"{addr_a}": reb.accounts[A], "{addr_b}": reb.accounts[B], "{addr_c}": reb.accounts[C],
                 "{addr_poor}": market["addr_poor"]}
    values.update((k, "(?i:%s)" % a) for k, a in addresses.items())
    return re.sub(r"\{[a-z_:-]+\}", lambda m: values.get(m.group(0), re.escape(m.group(0))), pattern)


def case_vars(reb, market):
    """What the case bodies refer to: the market's facts and the role keys and addresses."""
    return reb.vars(**market)


def bad_inputs_playbook(names):
    tasks = []
    for name, body, _ in CASES:
        if name not in names:
            continue
        body = "\n".join("  " + line for line in body.strip("\n").splitlines())
        tasks.append("- name: %s\n  ignore_errors: true\n%s" % (name, body))
    return play("\n\n".join(tasks), "Bad inputs")


def sends_nothing(reb, market):
    """A context: no account's nonce and no offer or reservation count may move inside it."""
    accounts = reb.accounts + [market["addr_poor"]]
    return _Unchanged(lambda: (reb.nonces(*accounts), reb.offer_count(), reb.reservation_count()))


class _Unchanged(object):
    def __init__(self, read):
        self.read = read

    def __enter__(self):
        self.before = self.read()

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.read() == self.before, "a bad input sent a transaction"


def run_bad_inputs(reb, market, check_mode=False):
    """Every case in-process; {case id: result}."""
    variables = case_vars(reb, market)
    results = {}
    with sends_nothing(reb, market):
        for name, body, _ in CASES:
            module, args = yaml_task(body, variables)
            results[name] = reb.do(module, check_mode=check_mode, secrets=[market["key_poor"]], **args)
    assert len(results) == len(CASES)
    return results


@pytest.fixture(scope="module")
def bad_run(reb, market):
    return run_bad_inputs(reb, market)


@pytest.fixture(scope="module")
def bad_check_run(reb, market):
    return run_bad_inputs(reb, market, check_mode=True)


def assert_clear_failure(result, pattern):
    assert result.get("failed") is True, result
    assert re.search(pattern, result["msg"]), "%r does not match %r" % (result["msg"], pattern)
    assert "Traceback" not in result["msg"] and "failed unexpectedly" not in result["msg"], result


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_fails_clearly(reb, market, bad_run, case):
    name, _, pattern = case
    assert_clear_failure(bad_run[name], expected(pattern, market, reb))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_fails_clearly_in_check_mode(reb, market, bad_check_run, case):
    name, _, pattern = case
    # Check mode simulates the transaction (eth_estimateGas), so what only the REB checks (who may act,
    # funds) is refused in --check exactly as in a real run.
    assert_clear_failure(bad_check_run[name], expected(pattern, market, reb))


# One case of every module through ansible-playbook: the action plugin turns the error into the task's failure.
THROUGH_ANSIBLE = ("wrong chain id", "self without key", "contract with another accept window", "empty provider name",
                   "malformed key", "tier 300", "reserve an offer another buyer holds", "insufficient funds")


def test_bad_inputs_fail_clearly_through_ansible(reb, market, bad_run, bad_check_run):
    # bad_run and bad_check_run first: the same cases in-process, before and not after this run.
    with sends_nothing(reb, market):
        run = reb.run(bad_inputs_playbook(THROUGH_ANSIBLE), market, secrets=reb.keys + [market["key_poor"]])
    assert run.rc == 0, run  # every failure was ignored: the play itself went through
    assert [n for n, _ in run.results] == [name for name, _, _ in CASES if name in THROUGH_ANSIBLE]
    assert sorted(set(yaml_task(body, case_vars(reb, market))[0] for name, body, _ in CASES
                      if name in THROUGH_ANSIBLE)) == ["reb_contract", "reb_offer", "reb_offer_info", "reb_provider",
                                                       "reb_reservation", "reb_reservation_info", "reb_withdraw"]
    for name, _, pattern in CASES:
        if name in THROUGH_ANSIBLE:
            assert_clear_failure(run.task(name), expected(pattern, market, reb))


def test_expire_before_and_accept_after_the_deadline(reb, market, bad_run, bad_check_run):
    # bad_run and bad_check_run are requested so they run before this test moves the chain's clock.
    reservation = market["reservations"]["err-late"]
    accept = dict(private_key=reb.keys[B], state="accepted", reservation_id=reservation,
                  access_endpoint="198.51.100.4:22", host_key_fingerprint=market["host_fingerprint"])
    expire = dict(private_key=reb.keys[C], state="expired", reservation_id=reservation)
    nonces = reb.nonces()
    assert_clear_failure(reb.do("reb_reservation", **expire),
                         r"reservation %d cannot be expired before its accept deadline \d+ \(now \d+\)" % reservation)
    assert reb.nonces() == nonces

    reb.travel(3600 + 60)  # past the accept window
    assert_clear_failure(reb.do("reb_reservation", **accept),
                         r"reservation %d can no longer be accepted: its deadline \d+ passed" % reservation)
    expired = reb.do("reb_reservation", **expire)  # anyone may, once the deadline passed
    assert expired["changed"] is True and expired["reservation"]["state"] == "expired"
    assert reb.nonces()[reb.accounts[B]] == nonces[reb.accounts[B]]


def test_chain_options_from_the_environment(reb):
    """DECENTER_REB_RPC_URL, _CHAIN_ID, _CONTRACT and _PRIVATE_KEY are used when a task sets nothing (the
    arguments' env fallbacks; tests/reb_modules/test_secrets.py has them through ansible-playbook)."""
    env = dict(DECENTER_REB_RPC_URL=reb.url, DECENTER_REB_CHAIN_ID="5", DECENTER_REB_CONTRACT=reb.address,
               DECENTER_REB_PRIVATE_KEY=reb.keys[C])
    # The chain id from the environment is enforced
    assert_clear_failure(run_module("reb_withdraw", {}, env=env, secrets=reb.keys),
                         r"the node at %s serves chain id 31337 but chain_id=5 was asked for" % re.escape(reb.url))
    ok = run_module("reb_withdraw", {"chain_id": 31337}, env=env, secrets=reb.keys)  # the task's chain_id wins
    assert ok["address"] == reb.accounts[C] and ok["changed"] is False and ok["amount"] == 0

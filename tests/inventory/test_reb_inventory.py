"""The decenter.fog.reb inventory plugin, run as users run it: `ansible-inventory` / `ansible` processes
against a fresh REB on the session's real anvil, filled with raw web3 calls.

Each ansible process costs seconds (web3 import), so one process checks several sources where their hosts
cannot interfere: a filter source adds its hosts to its own group through `groups:`.
"""
import base64
import os
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.inventory.helpers import (ROOT, Market, CountingProxy, ansible_adhoc, ansible_inventory, clean_env,
                                     hosts_of, plain, write_source)
from tests.support.chain import CHAIN_ID, deploy_reb

DEPLOYER, SELLER1, SELLER2, BUYER, OTHER_BUYER, NOBODY = range(6)
TEMPLATE_NODE = "{{ lookup('pipe','id') }}"


def fingerprint(n):
    return hashlib.sha256(b"host-key-%d" % n).digest()


def fingerprint_text(n):
    return "SHA256:" + base64.b64encode(fingerprint(n)).decode().rstrip("=")


@pytest.fixture(scope="module")
def world(anvil, tmp_path_factory):
    """A fresh REB with offers in every state and reservations of two buyers (ids are fixed by the order)."""
    tmp = tmp_path_factory.mktemp("reb_inventory")
    acct = anvil.w3.eth.accounts
    m = Market(anvil, deploy_reb(anvil.w3, acct[DEPLOYER]))
    s1, s2, buyer, other = acct[SELLER1], acct[SELLER2], acct[BUYER], acct[OTHER_BUYER]
    m.register(s1, "Provider A")
    m.register(s2, "Provider B")
    # short: REB v2 caps an offer's architecture at 64 bytes, and the template below must fit
    marker = Path("/tmp/reb-tpl-%d" % os.getpid())
    if marker.exists():
        marker.unlink()
    ids = {}
    ids[1] = m.offer(s1, "seoul-keti", "SEOUL-KETI", "camkor1:camera", price=10 ** 15)
    ids[2] = m.offer(s1, "trento/fbk 01", "TRENTO-FBK", "gpu0:gpu,cam2:camera", cpu=4000, memory=8192,
                     price=3 * 10 ** 15)
    ids[3] = m.offer(s2, TEMPLATE_NODE, "SEOUL-KETI", cpu=1000, memory=1024, price=5 * 10 ** 15)
    ids[4] = m.offer(s1, "withdrawn-node", "SEOUL-KETI")
    ids[5] = m.offer(s2, "edge-v6", "TRENTO-FBK", "cam9:camera",
                     architecture="{{ lookup('pipe', 'touch %s') }}" % marker)
    ids[6] = m.offer(s2, "seoul-keti", "SEOUL-KETI")  # same node id as offer 1, another seller
    ids[7] = m.offer(s1, "others", "BUSAN")
    ids[8] = m.offer(s2, "pending", "BUSAN")
    ids[9] = m.offer(s1, "bad-endpoint", "BUSAN")
    ids[10] = m.offer(s2, "busan-1", "BUSAN", "camkor1:camera", cpu=8000, memory=16384, price=2 * 10 ** 15)
    assert ids == dict((i, i) for i in range(1, 11))
    m.withdraw(s1, 4)
    reservations = dict(
        seoul=m.rent(s1, buyer, 1, "127.0.0.1:2222", fingerprint(1)),
        v6=m.rent(s2, buyer, 5, "[::1]:2200", fingerprint(5)),
        twin=m.rent(s2, buyer, 6, "10.0.0.5:22", fingerprint(6), hours=3),
        others=m.rent(s1, other, 7, "127.0.0.1:2300", fingerprint(7)),
        pending=m.reserve(buyer, 8),
        bad=m.rent(s1, buyer, 9, "-oProxyCommand=touch %s:22" % marker, fingerprint(9)),
    )
    return dict(market=m, url=anvil.url, keys=anvil.keys(), accounts=acct, tmp=tmp, marker=marker,
                reservations=reservations)


def chain(world, **extra):
    return dict(rpc_url=world["url"], contract_address=world["market"].address, chain_id=CHAIN_ID, **extra)


def bare(secret):
    """A hex key without 0x and lower-case: how to find it in any output, prefixed or not."""
    return (secret[2:] if secret.startswith("0x") else secret).lower()


def assert_no_secret(proc, *secrets):
    for secret in secrets:
        for text in (proc.stdout, proc.stderr):
            assert bare(secret) not in text.lower()


O2, O3, O10 = "offer_2_trento_fbk_01", "offer_3____lookup__pipe___id_____", "offer_10_busan-1"


def test_market_view_hosts_hostvars_groups_compose(world, tmp_path):
    """Default market view (open offers): names, hostvars, default groups, compose/groups/keyed_groups;
    the key in the environment (validated, unused) appears nowhere even at -vvv."""
    s1, s2 = world["accounts"][SELLER1], world["accounts"][SELLER2]
    key = world["keys"][BUYER]
    source = write_source(tmp_path, "market.reb.yml", dict(
        chain(world),
        compose=dict(price_milli_eth="reb_price_per_hour // 10 ** 12"),
        groups=dict(cheap="reb_price_per_hour <= 2 * 10 ** 15"),
        keyed_groups=[dict(key="reb_offer.architecture", prefix="arch"),
                      dict(key="reb_offer.cpu_millicores | string", prefix="cpu")],
    ))
    proc, data = ansible_inventory([source], "-vvv", DECENTER_REB_PRIVATE_KEY=key)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc, key)
    hostvars = plain(data["_meta"]["hostvars"])
    assert set(hostvars) == {O2, O3, O10}, proc.stderr
    assert hosts_of(data, "reb_market") == {O2, O3, O10}

    v = hostvars[O2]
    assert (v["reb_offer_id"], v["reb_region"], v["reb_seller"]) == (2, "TRENTO-FBK", s1)
    assert v["reb_price_per_hour"] == 3 * 10 ** 15
    assert v["reb_devices"] == ["gpu0", "cam2"]
    assert v["reb_offer"]["node_id"] == "trento/fbk 01"
    assert v["reb_offer"]["state"] == "open"
    assert v["reb_offer"]["devices"] == [dict(id="gpu0", kind="gpu"), dict(id="cam2", kind="camera")]
    assert hostvars[O3]["reb_offer"]["node_id"] == TEMPLATE_NODE  # stays text
    # chain strings are marked unsafe in the output of ansible-inventory
    assert data["_meta"]["hostvars"][O2]["reb_region"] == {"__ansible_unsafe": "TRENTO-FBK"}

    assert hosts_of(data, "region_TRENTO_FBK") == {O2}
    assert hosts_of(data, "region_SEOUL_KETI") == {O3}
    assert hosts_of(data, "region_BUSAN") == {O10}
    assert hosts_of(data, "device_gpu0") == hosts_of(data, "device_cam2") == {O2}
    assert hosts_of(data, "device_camkor1") == {O10}
    assert hosts_of(data, "seller_" + s1.lower()) == {O2}
    assert hosts_of(data, "seller_" + s2.lower()) == {O3, O10}

    assert [hostvars[h]["price_milli_eth"] for h in (O2, O3, O10)] == [3000, 5000, 2000]
    assert hosts_of(data, "cheap") == {O10}
    assert hosts_of(data, "arch_amd64") == {O2, O3, O10}
    assert hosts_of(data, "cpu_4000") == {O2}
    assert hosts_of(data, "cpu_8000") == {O10}


def test_market_filters(world, tmp_path):
    """Each filter source puts what it lists into its own group (one ansible-inventory for all)."""
    s2 = world["accounts"][SELLER2]
    filters = dict(
        f_region=dict(region="SEOUL-KETI"),
        f_device=dict(device="camkor1", state="any"),
        f_kind_price=dict(device_kind="camera", max_price_per_hour=2 * 10 ** 15),
        f_size=dict(min_cpu_millicores=4000, min_memory_mib=8192),
        f_seller=dict(seller="0x" + s2[2:].upper()),
        f_withdrawn=dict(state="withdrawn"),
        f_reserved=dict(state="reserved", region="SEOUL-KETI"),
        f_node_disk_arch=dict(node_id="busan-1", min_storage_gib=10, architecture="amd64"),
        f_disk=dict(min_storage_gib=11),
        f_offer=dict(offer_id=2),
    )
    sources = [write_source(tmp_path, "%s.reb.yml" % name, dict(chain(world), groups={name: "true"}, **f))
               for name, f in filters.items()]
    proc, data = ansible_inventory(sources)
    assert proc.returncode == 0, proc.stderr
    assert "Failed to parse" not in proc.stderr
    assert hosts_of(data, "f_region") == {O3}
    assert hosts_of(data, "f_device") == {"offer_1_seoul-keti", O10}
    assert hosts_of(data, "f_kind_price") == {O10}
    assert hosts_of(data, "f_size") == {O2, O10}
    assert hosts_of(data, "f_seller") == {O3, O10}
    assert hosts_of(data, "f_withdrawn") == {"offer_4_withdrawn-node"}
    assert hosts_of(data, "f_reserved") == {"offer_1_seoul-keti", "offer_6_seoul-keti"}
    assert hosts_of(data, "f_node_disk_arch") == {O10}
    assert hosts_of(data, "f_disk") == set()
    assert hosts_of(data, "f_offer") == {O2}


def test_market_filters_are_reb_markets_and_options_the_doc_fragments(monkeypatch):
    """The market view filters with reb_market's OFFER_FILTERS (but hours, which needs the chain's clock), each
    documented as the fragment documents it for reb_offer_info; the chain options come from the modules' fragment
    plus the environment variables an inventory source reads them from."""
    monkeypatch.syspath_prepend(str(ROOT / "collections"))
    from ansible_collections.decenter.fog.plugins.inventory import reb
    from ansible_collections.decenter.fog.plugins.module_utils.reb_market import OFFER_FILTERS

    assert set(reb.MARKET_FILTERS) == set(OFFER_FILTERS) - {"hours"}
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-doc"), "-t", "inventory", "--json", "decenter.fog.reb"],
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    options = json.loads(proc.stdout)["decenter.fog.reb"]["doc"]["options"]
    for name in reb.MARKET_FILTERS:
        spec = OFFER_FILTERS[name]
        documented = dict((k, options[name].get(k)) for k in ("type", "elements", "choices", "default"))
        assert documented == dict((k, spec.get(k)) for k in ("type", "elements", "choices", "default")), name
    for name, env in (("rpc_url", "DECENTER_REB_RPC_URL"), ("chain_id", "DECENTER_REB_CHAIN_ID"),
                      ("contract_address", "DECENTER_REB_CONTRACT"), ("private_key", "DECENTER_REB_PRIVATE_KEY")):
        assert options[name]["env"] == [{"name": env}], name
    assert options["rpc_url"]["default"] == "http://127.0.0.1:8545" and options["timeout"]["type"] == "float"


def test_trusted_sellers_by_address_with_names_next_to_them(world, tmp_path, reb_index_dir):
    """Names are not unique, addresses are: `sellers` keeps the trusted ones; every host shows both."""
    s1, s2 = world["accounts"][SELLER1], world["accounts"][SELLER2]
    source = write_source(tmp_path, "trusted.reb.yml", dict(chain(world), sellers=[s2.lower()]))
    proc, data = ansible_inventory([source])
    assert proc.returncode == 0, proc.stderr
    assert hosts_of(data, "reb_market") == {O3, O10}
    v = plain(data["_meta"]["hostvars"][O10])
    assert (v["reb_seller"], v["reb_seller_name"]) == (s2, "Provider B")
    assert v["reb_terms_hash"] == "0x" + world["market"].reb.functions.getOffer(10).call()[-1].hex()
    bad = write_source(tmp_path, "bad.reb.yml", dict(chain(world), sellers=["Provider B"]))
    proc, _ = ansible_inventory([bad])
    assert "is not a seller address" in proc.stderr
    assert s1 not in str(hosts_of(data, "reb_market"))
    # the inventory read the shared market index (kept on disk with its block cursor)
    assert any(p.name.endswith("%s.json" % world["market"].address.lower()) for p in Path(reb_index_dir).iterdir())


def test_buyer_view(world, tmp_path):
    """The buyer's accepted reservations only, ready for SSH; the key is never shown, even at -vvv.
    A node id already taken (older reservation, or a static host parsed before) gets a _r<id> suffix."""
    key = world["keys"][BUYER]
    r = world["reservations"]
    twin, v6 = "seoul-keti_r%d" % r["twin"], "edge-v6_r%d" % r["v6"]
    static = tmp_path / "static.yml"
    static.write_text("all:\n  hosts:\n    edge-v6:\n      ansible_host: 192.0.2.1\n")
    source = write_source(tmp_path, "rented.reb.yml", dict(chain(world), view="buyer"))
    proc, data = ansible_inventory([static, source], "-vvv", DECENTER_REB_PRIVATE_KEY=key)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc, key)
    hostvars = plain(data["_meta"]["hostvars"])
    # not listed: another buyer's rental, a request not yet accepted, an endpoint that is no host:port
    assert set(hostvars) == {"seoul-keti", v6, twin, "edge-v6"}
    assert hostvars["edge-v6"] == {"ansible_host": "192.0.2.1"}  # the static host is left alone
    assert hosts_of(data, "reb_rented") == {"seoul-keti", v6, twin}
    assert hosts_of(data, "region_SEOUL_KETI") == {"seoul-keti", twin}
    assert hosts_of(data, "region_TRENTO_FBK") == {v6}
    assert "reservation %d skipped" % r["bad"] in proc.stderr

    v = hostvars["seoul-keti"]
    assert (v["ansible_host"], v["ansible_port"], v["ansible_user"]) == ("127.0.0.1", 2222, "root")
    assert v["reb_host_key_fingerprint"] == fingerprint_text(1)
    assert (v["reb_region"], v["fog_region"]) == ("SEOUL-KETI", "SEOUL-KETI")
    res = v["reb_reservation"]
    assert (res["id"], res["state"], res["offer_id"], res["hours"]) == (r["seoul"], "accepted", 1, 2)
    assert res["host_key_fingerprint"] == fingerprint_text(1)
    assert res["ends_at"] == res["accepted_at"] + 2 * 3600
    assert res["buyer"] == world["accounts"][BUYER]
    assert v["reb_offer"]["id"] == 1 and v["reb_offer"]["state"] == "reserved"

    assert (hostvars[v6]["ansible_host"], hostvars[v6]["ansible_port"]) == ("::1", 2200)
    assert (hostvars[twin]["ansible_host"], hostvars[twin]["ansible_port"]) == ("10.0.0.5", 22)
    assert hostvars[twin]["reb_offer"]["id"] == 6
    assert hostvars[twin]["reb_host_key_fingerprint"] == fingerprint_text(6)
    assert hostvars[twin]["reb_reservation"]["ends_at"] - hostvars[twin]["reb_reservation"]["accepted_at"] == 3 * 3600


def test_buyer_view_in_a_play_never_runs_chain_templates(world, tmp_path):
    """A seller-written Jinja string (offer architecture) reaches a task as text; ansible_user is the option's."""
    source = write_source(tmp_path, "rented.reb.yml", dict(chain(world), view="buyer", ansible_user="decenter"))
    msg = "user={{ ansible_user }} arch={{ reb_offer.architecture }} fp={{ reb_host_key_fingerprint }}"
    proc = ansible_adhoc(source, "edge-v6", "ansible.builtin.debug", "msg='%s'" % msg,
                         DECENTER_REB_PRIVATE_KEY=world["keys"][BUYER])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "user=decenter arch={{ lookup('pipe', 'touch %s') }} fp=%s" % (world["marker"], fingerprint_text(5)) \
        in proc.stdout
    assert not world["marker"].exists()
    assert_no_secret(proc, world["keys"][BUYER])


def test_errors_are_one_plain_line(world, tmp_path):
    """Bad endpoint, wrong contract, missing and malformed key: the REB client's sentence, no traceback, no key."""
    nobody = world["accounts"][NOBODY]
    bad_key = "0x" + "zz" * 32
    sources = [
        write_source(tmp_path, "dead.reb.yml", dict(rpc_url="http://127.0.0.1:1",
                                                    contract_address=world["market"].address)),
        write_source(tmp_path, "wrong.reb.yml", dict(chain(world), contract_address=nobody)),
        write_source(tmp_path, "nokey.reb.yml", dict(chain(world), view="buyer")),
        write_source(tmp_path, "badkey.reb.yml", dict(chain(world), view="buyer", private_key=bad_key)),
    ]
    proc, data = ansible_inventory(sources, "-vvv")
    assert proc.returncode == 0  # ansible-inventory warns about unparsed sources
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert_no_secret(proc, bad_key)
    lines = proc.stderr.splitlines()

    def one_line(start, end):
        assert any(start in line and line.rstrip().endswith(end) for line in lines), proc.stderr

    one_line("cannot reach the Ethereum JSON-RPC endpoint http://127.0.0.1:1 (",
             "Check rpc_url (or DECENTER_REB_RPC_URL) and that the node is running.")
    one_line("no Resource Exchange Broker at %s on chain %d (%s): the address holds no code."
             % (nobody, CHAIN_ID, world["url"]),
             "Check contract_address, or deploy with decenter.fog.reb_contract.")
    one_line("no private key: set private_key (from Ansible Vault) or the environment variable "
             "DECENTER_REB_PRIVATE_KEY", "of the account that acts.")
    one_line("private_key is not a valid Ethereum private key", "Check the value in Vault or DECENTER_REB_PRIVATE_KEY.")
    assert data["_meta"]["hostvars"] == {}


def test_cache_serves_without_rpc_until_flushed_or_source_changes(anvil, tmp_path):
    """With cache on, a second parse sends no JSON-RPC request at all (counted by a pass-through proxy) and
    shows the cached market; --flush-cache reads the chain again, and so does another contract (from env)."""
    acct = anvil.w3.eth.accounts
    a = Market(anvil, deploy_reb(anvil.w3, acct[DEPLOYER]))
    b = Market(anvil, deploy_reb(anvil.w3, acct[DEPLOYER]))
    for m, node in ((a, "cache-a1"), (b, "cache-b1")):
        m.register(acct[SELLER1], "Provider A")
        m.offer(acct[SELLER1], node, "SEOUL-KETI")
    key = anvil.keys()[BUYER]
    proxy = CountingProxy(anvil.url)
    try:
        cache_dir = tmp_path / "cache"
        source = write_source(tmp_path, "cached.reb.yml", dict(
            rpc_url=proxy.url, cache=True, cache_plugin="ansible.builtin.jsonfile",
            cache_connection=str(cache_dir), cache_timeout=600))

        def hosts(*args, contract=a.address):
            proc, data = ansible_inventory([source], *args, DECENTER_REB_CONTRACT=contract,
                                           DECENTER_REB_PRIVATE_KEY=key)
            assert proc.returncode == 0 and data is not None, proc.stderr
            return set(data["_meta"]["hostvars"])

        assert hosts() == {"offer_1_cache-a1"}
        first = proxy.requests
        assert first > 0
        assert list(cache_dir.iterdir())

        a.offer(acct[SELLER1], "cache-a2", "SEOUL-KETI")
        assert hosts() == {"offer_1_cache-a1"}  # the cached market, and not one request
        assert proxy.requests == first

        assert hosts("--flush-cache") == {"offer_1_cache-a1", "offer_2_cache-a2"}
        second = proxy.requests
        assert second > first

        assert hosts(contract=b.address) == {"offer_1_cache-b1"}  # cached data of another contract is not used
        assert proxy.requests > second
        for f in cache_dir.iterdir():
            assert bare(key) not in f.read_text().lower()
    finally:
        proxy.stop()


def test_plugin_helpers(monkeypatch):
    """Names and endpoints from the chain are made safe."""
    monkeypatch.syspath_prepend(str(ROOT / "collections"))
    from ansible_collections.decenter.fog.plugins.inventory import reb

    assert reb.host_name("seoul-keti") == "seoul-keti"
    assert reb.host_name("a b/c{{x}}") == "a_b_c__x__"
    assert reb.host_name("-oProxyCommand=x") == "_-oProxyCommand_x"
    assert reb.host_name(".hidden") == "_.hidden"
    assert reb.parse_endpoint("127.0.0.1:2222") == ("127.0.0.1", 2222)
    assert reb.parse_endpoint("[2001:db8::1]:22") == ("2001:db8::1", 22)
    assert reb.parse_endpoint("node.example.org:2200") == ("node.example.org", 2200)
    assert reb.parse_endpoint("node.example.org") == ("node.example.org", None)
    for bad in ("", "-oProxyCommand=x:22", "a b:22", "h:0", "h:70000", "{{ x }}:22", "h:22x"):
        assert reb.parse_endpoint(bad) is None, bad
    assert reb._address_of(None) is None
    assert reb._address_of("0x" + "zz" * 32) is None
    assert reb._address_of("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80") == \
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


def test_chain_options_given_to_the_run_reach_the_buyer_view(world, tmp_path, anvil):
    """-e reb_contract_address / reb_rpc_url (what the REB tasks of the run use) override the file's options:
    the rented nodes come from the chain the run acts on, never from another one (issue 16, item 8)."""
    source = write_source(tmp_path, "rented.reb.yml", dict(chain(world), view="buyer"))
    other = deploy_reb(anvil.w3, world["accounts"][DEPLOYER])  # another REB on the same chain: no rentals
    key = world["keys"][BUYER]

    def rented(*extra):
        cmd = [str(ROOT / ".venv/bin/ansible"), "reb_rented", "-i", str(source), "--list-hosts"] + list(extra)
        return subprocess.run(cmd, cwd=str(ROOT), env=clean_env(DECENTER_REB_PRIVATE_KEY=key), capture_output=True,
                              text=True, timeout=120)

    assert "seoul-keti" in rented().stdout
    proc = rented("-e", "reb_contract_address=%s" % other)
    assert "seoul-keti" not in proc.stdout and "hosts (0)" in proc.stdout, proc.stdout + proc.stderr
    proc = rented("-e", "reb_rpc_url=http://127.0.0.1:1")
    assert "seoul-keti" not in proc.stdout and "cannot reach the Ethereum JSON-RPC endpoint http://127.0.0.1:1" in \
        proc.stderr, proc.stderr

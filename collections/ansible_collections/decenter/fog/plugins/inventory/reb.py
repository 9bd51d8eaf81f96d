# -*- coding: utf-8 -*-
# (c) decenter-fog contributors
# Apache License 2.0 or GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt), at your choice
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: reb
short_description: Offers of the Resource Exchange Broker, or the nodes you rent, as inventory hosts
description:
  - Reads the Resource Exchange Broker (REB) smart contract through an Ethereum JSON-RPC endpoint.
  - With O(view=market) every offer that passes the filters becomes a host named C(offer_<id>_<node_id>),
    grouped by region, device and seller, so plays and the Resource Selector can pick nodes to rent. Each host
    has the seller's address (C(reb_seller)) next to the name it registered (C(reb_seller_name)), and the
    offer's C(reb_terms_hash).
  - Offers and reservations come from the shared market index (built from the REB's events, kept on the
    controller's disk, only new blocks read; see M(decenter.fog.reb_offer_info)).
  - With O(view=buyer) every B(accepted) reservation of the account of O(private_key) becomes a host named
    after the rented node, with C(ansible_host) and C(ansible_port) taken from the access endpoint the seller
    recorded on acceptance and the node's SSH host-key fingerprint in C(reb_host_key_fingerprint).
  - Everything read from the chain is marked unsafe, so it is never evaluated as a template.
  - The configuration file name must end in C(reb.yml) or C(reb.yaml), for example C(lab.reb.yml).
  - Extra variables of the run (C(-e reb_rpc_url=... -e reb_chain_id=... -e reb_contract_address=...)), the chain
    options the REB tasks of the playbooks use, override O(rpc_url), O(chain_id) and O(contract_address), so the
    rented nodes are read from the chain the run acts on. Only literal values are taken (no templates).
version_added: 0.1.0
author: decenter-fog contributors (@decenter-fog)
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    required: true
    type: str
    choices: [decenter.fog.reb]
  # The chain options are the REB modules' (doc fragment decenter.fog.reb); here only where an
  # inventory source reads them from, and what differs for a reader.
  rpc_url:
    env:
      - name: DECENTER_REB_RPC_URL
  chain_id:
    env:
      - name: DECENTER_REB_CHAIN_ID
  contract_address:
    env:
      - name: DECENTER_REB_CONTRACT
  private_key:
    description:
      - Wallet private key (hex) of the buyer account; required for O(view=buyer), whose hosts are the
        reservations of this account. Only its address is used; the key signs nothing here.
      - Keep it in Ansible Vault or the environment. It is never displayed, cached or written anywhere.
      - If not set, the environment variable E(DECENTER_REB_PRIVATE_KEY) is used.
    env:
      - name: DECENTER_REB_PRIVATE_KEY
  confirmations:
    description: Accepted for symmetry with the REB modules; the inventory only reads and sends no transaction.
  timeout:
    description: Seconds to wait for the endpoint to answer each request.
  buyer:
    description:
      - Buyer view; address of the buyer whose rented nodes to list. Reading is public, so no key is needed
        when this is set; without it the address of O(private_key) is used.
    type: str
  view:
    description:
      - V(market) lists the offers of the market that pass the offer filters (O(offer_id), O(node_id), O(region),
        O(device), O(device_kind), O(min_cpu_millicores), O(min_memory_mib), O(min_storage_gib), O(architecture),
        O(max_price_per_hour), O(seller), O(sellers), O(state)), those of M(decenter.fog.reb_offer_info) but
        C(hours); the buyer view ignores them.
      - V(buyer) lists the nodes rented by O(buyer) (or the account of O(private_key)), that is its accepted reservations.
    type: str
    choices: [market, buyer]
    default: market
  ansible_user:
    description: Buyer view; the C(ansible_user) of the rented hosts (the account the seller granted your key to).
    type: str
    default: root
notes:
  - Market hosts describe offers and have no address to connect to; use them to choose, then reserve with
    M(decenter.fog.reb_reservation) and read the rented nodes with O(view=buyer).
  - A reservation stays accepted, and its host listed, until it is released or settled, also after its
    C(ends_at); group or filter on C(reb_reservation.ends_at) if you need only running rentals.
  - A buyer-view host is named after the node id of the offer; when that name is taken, by an older reservation
    or by a host of an inventory source parsed earlier, C(_r<reservation id>) is appended.
  - A buyer-view reservation whose access endpoint is not C(host:port) (IPv6 as C([address]:port)) is skipped
    with a warning.
  - When the chain cannot be read, Ansible shows the reason as a warning and goes on without these hosts;
    set C(any_unparsed_is_failed) in the C([inventory]) section of C(ansible.cfg) (or
    E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED)) to make that an error.
  - With O(cache) enabled the cached data also records a digest of the endpoint, chain id, contract, view and
    buyer address; when any of them changes (for example through the environment) the chain is read again.
extends_documentation_fragment:
  - decenter.fog.reb
  - decenter.fog.reb.offer_filters
  - constructed
  - inventory_cache
'''

EXAMPLES = r'''
---
# market.reb.yml: open offers in SEOUL-KETI with a camera, grouped by architecture
plugin: decenter.fog.reb
rpc_url: http://127.0.0.1:8545
contract_address: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
region: SEOUL-KETI
device_kind: camera
keyed_groups:
  - key: reb_offer.architecture
    prefix: arch
compose:
  reb_price_eth: reb_price_per_hour / 1e18

---
# rented.reb.yml: the nodes rented by the account of DECENTER_REB_PRIVATE_KEY, ready for SSH
plugin: decenter.fog.reb
view: buyer
ansible_user: decenter
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: .cache/reb-inventory
cache_timeout: 300
'''

import hashlib
import json
import re

from ansible.errors import AnsibleParserError
from ansible.parsing.utils.addresses import parse_address
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var
from ansible.utils.vars import load_extra_vars

from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import offer_hostvars
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError
from ansible_collections.decenter.fog.plugins.module_utils.reb_market import OFFER_FILTERS, check_sellers, offer_matches
from ansible_collections.decenter.fog.plugins.module_utils.reb_options import CHAIN_OPTION_NAMES

# reb_client itself is imported only when the chain is read: web3 takes seconds to import, which a
# cache hit does not need.
# reb_market's offer filters, but hours: whether an offer can be booked for some hours depends on the time of
# the run, which a cached market view does not know (reb_offer_info asks the chain).
MARKET_FILTERS = tuple(name for name in OFFER_FILTERS if name != "hours")
_BAD_HOST_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
CACHE_FORMAT = 2  # 2: REB v2 offers (terms_hash, seller_name)
# Extra variables that name the chain a run acts on, and the options they override.
EXTRA_VAR_OPTIONS = (("reb_rpc_url", "rpc_url"), ("reb_chain_id", "chain_id"),
                     ("reb_contract_address", "contract_address"))


def host_name(text):
    """An inventory host name from untrusted text: ASCII letters, digits, '_', '.', '-' only, not led by '-'/'.'."""
    name = _BAD_HOST_CHARS.sub("_", text)
    if not name or name[0] in "-.":
        name = "_" + name
    return name


def parse_endpoint(endpoint):
    """(host, port or None) from a reservation's 'host:port' / '[v6]:port', or None if it is not one."""
    try:
        host, port = parse_address(endpoint or "")
    except Exception:
        return None
    if port is not None and not 0 < port < 65536:
        return None
    return host, port


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "decenter.fog.reb"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("reb.yml", "reb.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        params = dict((name, self.get_option(name)) for name in CHAIN_OPTION_NAMES)
        params.update(self._run_chain_options(loader))
        view = self.get_option("view")
        source = self._source(params, view) if self.get_option("cache") else None

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                data = None
            if not isinstance(data, dict) or data.get("source") != source:
                data = None  # missing, expired, or read from another chain, contract, view or buyer
                update_cache = True
            else:
                self.display.vvv("decenter.fog.reb: using the cached %s view of %s" % (view, path))
        if data is None:
            try:
                data = self._read_chain(params, view)
            except RebError as e:
                raise AnsibleParserError(str(e)) from None  # the client's sentence is the whole story
            data["source"] = source
        if update_cache:
            self._cache[cache_key] = data

        if view == "market":
            self._populate_market(data["offers"])
        else:
            self._populate_buyer(data["rentals"])

    def _run_chain_options(self, loader):
        """Chain options given to this run as extra variables (-e), which the REB tasks use too."""
        found = {}
        extra = load_extra_vars(loader)
        for var, option in EXTRA_VAR_OPTIONS:
            value = extra.get(var)
            if value is None or value == "":
                continue
            if "{{" in str(value):
                self.display.warning("decenter.fog.reb: -e %s is a template; the inventory takes only literal chain "
                                     "options, so it keeps %s from its file." % (var, option))
                continue
            try:
                found[option] = int(value) if option == "chain_id" else str(value)
            except ValueError:
                raise AnsibleParserError("-e %s=%s is not a chain id (a whole number)." % (var, value)) from None
            self.display.vvv("decenter.fog.reb: %s from -e %s" % (option, var))
        return found

    # ----------------------------------------------------------------------- reading

    def _source(self, params, view):
        """A digest of what the data depends on besides the file, stored with the cached copy.

        The cache key only names the file, but the endpoint, contract and key may come from the environment.
        A digest, so the cache holds neither the rpc_url (which may embed an API key) nor anything of the key.
        """
        source = [CACHE_FORMAT, view, params["rpc_url"], params["chain_id"], (params["contract_address"] or "").lower()]
        if view == "buyer":
            source.append((self.get_option("buyer") or "").lower() or _address_of(params["private_key"]))
        return hashlib.sha256(json.dumps(source).encode("utf-8")).hexdigest()

    def _read_chain(self, params, view):
        from ansible_collections.decenter.fog.plugins.module_utils.reb_client import get_client
        if view == "market":
            client = get_client(params)
            offers = client.offers()
            self.display.vvv("decenter.fog.reb: read %d offers from %s" % (len(offers), params["rpc_url"]))
            return dict(offers=offers)
        buyer = (self.get_option("buyer") or "").lower()
        client = get_client(params, need_key=not buyer)
        buyer = buyer or client.address.lower()
        index = client.market()
        mine = client.reservations([i for i, r in index.reservations.items()
                                    if r["state"] == "accepted" and r["buyer"].lower() == buyer])
        offers = dict((r["offer_id"], client.offer(r["offer_id"])) for r in mine)
        self.display.vvv("decenter.fog.reb: %d accepted reservations of %s on %s"
                         % (len(mine), buyer, params["rpc_url"]))
        return dict(rentals=[dict(reservation=r, offer=offers[r["offer_id"]]) for r in mine])

    # ---------------------------------------------------------------------- populating

    def _populate_market(self, offers):
        filters = dict((name, self.get_option(name)) for name in MARKET_FILTERS)
        if filters["sellers"]:
            try:
                check_sellers(filters["sellers"])
            except ValueError as e:
                raise AnsibleParserError("decenter.fog.reb: %s" % e)
        for offer in offers:
            if not offer_matches(offer, filters):
                continue
            host = host_name("offer_%d_%s" % (offer["id"], offer["node_id"]))
            devices = [d["id"] for d in offer["devices"]]
            groups = ["reb_market", "region_" + offer["region"], "seller_" + offer["seller"].lower()]
            groups.extend("device_" + d for d in devices)
            self._add(host, groups, dict(
                reb_offer=offer,
                reb_offer_id=offer["id"],
                reb_region=offer["region"],
                reb_seller=offer["seller"],
                reb_seller_name=offer.get("seller_name", ""),
                reb_terms_hash=offer.get("terms_hash", ""),
                reb_price_per_hour=offer["price_per_hour"],
                reb_devices=devices,
            ))

    def _populate_buyer(self, rentals):
        taken = set()
        for rental in sorted(rentals, key=lambda x: x["reservation"]["id"]):
            reservation, offer = rental["reservation"], rental["offer"]
            endpoint = parse_endpoint(reservation["access_endpoint"])
            if endpoint is None:
                self.display.warning("decenter.fog.reb: reservation %d skipped: its access endpoint %r is not "
                                     "host:port" % (reservation["id"], reservation["access_endpoint"]))
                continue
            host = host_name(offer["node_id"])
            if host in taken or self.inventory.get_host(host) is not None:
                host = host_name("%s_r%d" % (offer["node_id"], reservation["id"]))
            taken.add(host)
            hostvars = dict(
                ansible_host=endpoint[0],
                reb_reservation=reservation,
                reb_offer=offer,
                reb_host_key_fingerprint=reservation["host_key_fingerprint"],
                reb_region=offer["region"],
            )
            hostvars.update(offer_hostvars(offer))  # the node as a FogAtlas host of the buyer (fog_host_model)
            if endpoint[1] is not None:
                hostvars["ansible_port"] = endpoint[1]
            self._add(host, ["reb_rented", "region_" + offer["region"]], hostvars,
                      trusted=dict(ansible_user=self.get_option("ansible_user")))

    def _add(self, host, groups, chain_vars, trusted=None):
        """One host: chain values wrapped unsafe, default groups, then compose/groups/keyed_groups."""
        self.inventory.add_host(host)
        for name, value in chain_vars.items():
            self.inventory.set_variable(host, name, wrap_var(value))
        for name, value in (trusted or {}).items():
            self.inventory.set_variable(host, name, value)
        for group in groups:
            group = self.inventory.add_group(self._sanitize_group_name(group))
            self.inventory.add_child(group, host)
        strict = self.get_option("strict")
        hostvars = self.inventory.get_host(host).get_vars()
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)


def _address_of(private_key):
    """Lower-case address of the key, or None.

    None only makes the cache miss: the client then reports a missing or bad key, in words that never quote it.
    """
    if not private_key:
        return None
    try:
        from eth_keys import keys  # what eth_account derives addresses with, without its slow imports
        text = str(private_key).strip()
        text = text[2:] if text[:2] in ("0x", "0X") else text
        return keys.PrivateKey(bytes.fromhex(text)).public_key.to_checksum_address().lower()
    except Exception:
        return None

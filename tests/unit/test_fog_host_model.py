"""The host model and the one device parser, as the fog_host filter, the inventory plugin, the REB codec and
placement use them."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.decenter.fog.plugins.filter.fog_host import fog_host
from ansible_collections.decenter.fog.plugins.module_utils import reb_codec
from ansible_collections.decenter.fog.plugins.module_utils.fog_host_model import (
    host_from_hostvars, offer_hostvars, parse_device)
from ansible_collections.decenter.fog.plugins.module_utils.fog_placement_core import PlacementError, validate_hosts
from ansible_collections.decenter.fog.plugins.module_utils.reb_errors import RebError

SELLER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OFFER = {"id": 3, "seller": SELLER, "node_id": "seoul-keti", "region": "SEOUL-KETI", "tier": 1,
         "location": "37.5665,126.9780", "cpu_millicores": 2000, "memory_mib": 2048, "storage_gib": 10,
         "architecture": "amd64", "devices": [{"id": "camkor1", "kind": "camera"}], "price_per_hour": 10 ** 15}
POVO = {"inventory_hostname": "povo", "fog_region": "POVO", "fog_tier": 1, "fog_provider": "provider_a",
        "fog_cpu_millicores": 1000, "fog_memory_mib": 1024, "fog_storage_gib": 10, "fog_devices": ["cam1:camera"],
        "fog_location": "46.0667,11.1500", "ansible_host": "10.0.0.2"}


@pytest.mark.parametrize("value, expected", [
    ("camkor1:camera", {"id": "camkor1", "kind": "camera"}),
    (" camkor1 : camera ", {"id": "camkor1", "kind": "camera"}),
    ("camkor1", {"id": "camkor1", "kind": None}),
    ("camkor1:", {"id": "camkor1", "kind": None}),
    ({"id": "mic1", "kind": "microphone"}, {"id": "mic1", "kind": "microphone"}),
    ({"id": "mic1"}, {"id": "mic1", "kind": None}),
    ("", None), (":camera", None), (5, None), ({"id": 5, "kind": "camera"}, None), ({"id": "a", "kind": 1}, None),
])
def test_parse_device(value, expected):
    assert parse_device(value) == expected


def test_the_reb_and_placement_read_devices_alike():
    written = ["camkor1:camera", {"id": "mic1", "kind": "microphone"}, " cam2 : camera "]
    on_chain = ",".join(reb_codec.device_string(d) for d in written)
    assert on_chain == "camkor1:camera,mic1:microphone,cam2:camera"
    host = dict(name="n", region="R", tier=1, cpu_millicores=1, memory_mib=1, devices=written)
    assert sorted(reb_codec.parse_devices(on_chain), key=lambda d: d["id"]) == validate_hosts([host])[0]["devices"]


@pytest.mark.parametrize("device", ["camkor1", ":camera", "a,b:camera", {"id": "x"}, 7])
def test_the_reb_refuses_a_device_without_an_id_and_a_kind(device):
    with pytest.raises(RebError, match="is not of the form '<id>:<kind>'"):
        reb_codec.device_string(device)
    if device != "a,b:camera":  # a comma only matters in the REB's list
        host = dict(name="n", region="R", tier=1, cpu_millicores=1, memory_mib=1, devices=[device])
        if parse_device(device) is None:
            with pytest.raises(PlacementError, match="is not understood"):
                validate_hosts([host])


def test_a_chain_list_with_an_entry_without_a_kind_still_has_every_key():
    # A list written to the REB by another client: the market filters read d["kind"] of every device.
    assert reb_codec.parse_devices("cam1,:x,,mic1:microphone") == [
        {"id": "cam1", "kind": None}, {"id": "mic1", "kind": "microphone"}]


def test_the_filter_maps_an_inventory_hosts_fog_variables():
    assert fog_host(POVO) == {"name": "povo", "region": "POVO", "tier": 1, "provider": "provider_a",
                              "cpu_millicores": 1000, "memory_mib": 1024, "storage_gib": 10,
                              "devices": ["cam1:camera"], "location": "46.0667,11.1500"}
    assert fog_host(POVO) == host_from_hostvars("povo", POVO)


def test_the_filter_names_what_a_host_lacks():
    with pytest.raises(AnsibleFilterError, match=r"^fog_host: host povo lacks fog_tier, fog_memory_mib; set them"):
        fog_host(dict(POVO, fog_tier=None, fog_memory_mib=None))


def test_a_rented_node_in_the_buyer_view_is_the_host_its_offer_describes():
    hostvars = dict(offer_hostvars(OFFER), reb_offer=OFFER, inventory_hostname="seoul-keti")
    assert offer_hostvars(OFFER) == {
        "fog_region": "SEOUL-KETI", "fog_tier": 1, "fog_location": "37.5665,126.9780", "fog_cpu_millicores": 2000,
        "fog_memory_mib": 2048, "fog_storage_gib": 10, "fog_devices": ["camkor1:camera"]}
    host = fog_host(hostvars)
    assert host == dict(name="seoul-keti", region="SEOUL-KETI", tier=1, provider=SELLER, location="37.5665,126.9780",
                        cpu_millicores=2000, memory_mib=2048, storage_gib=10, devices=["camkor1:camera"])
    # the buyer's group_vars name the provider of its rented nodes; host variables win over the offer
    assert fog_host(dict(hostvars, fog_provider="provider_b", fog_tier=2))["provider"] == "provider_b"
    assert fog_host(dict(hostvars, fog_tier=2))["tier"] == 2
    # the offer alone (no fog_* variables) is enough
    assert validate_hosts([host_from_hostvars("seoul-keti", {"reb_offer": OFFER})]) == validate_hosts([host])


def test_an_offer_without_a_location_makes_a_host_without_one():
    offer = dict(OFFER, location="")
    hostvars = dict(offer_hostvars(offer), reb_offer=offer, inventory_hostname="seoul-keti")
    assert hostvars["fog_location"] == ""  # the inventory shows the chain's value
    assert "location" not in fog_host(hostvars)
    assert validate_hosts([fog_host(hostvars)])[0]["location"] is None

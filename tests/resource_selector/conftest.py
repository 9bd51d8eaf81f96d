"""Fixtures of the Resource Selector tests: a REB with a small market on the session's anvil, the buyer's
inventory (with a seller host run locally, so reserve.yml really reserves and accepts), and the GUI."""
import subprocess

import pytest

from tests.support.chain import ROOT, deploy_reb, free_port
from tests.resource_selector.support import Gui, Market, write_inventory


@pytest.fixture(scope="module")
def market(anvil):
    reb = deploy_reb(anvil.w3, anvil.w3.eth.accounts[0])
    m = Market(anvil, reb)
    m.ids = m.seed()
    return m


@pytest.fixture(scope="module")
def run_inventory(market, tmp_path_factory):
    """Provider A (buyer) and a SEOUL-KETI seller host that runs on this machine (connection local, its files in
    a temporary directory). Its access endpoint is a closed loopback port: provision.yml must fail there."""
    d = tmp_path_factory.mktemp("rs-inventory")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    (d / "authorized_keys").write_text("")
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    base = write_inventory(d / "inventory", market)
    hosts = {"all": {"children": {
        "controller": {"hosts": {"localhost": local}},
        "provider_a": {"children": {
            "region_CLOUD": {"hosts": {"cloud": dict(local, fog_region="CLOUD", fog_tier=0, fog_cpu_millicores=6000,
                                                     fog_memory_mib=6144, fog_storage_gib=500, fog_devices=[])}},
            "region_POVO": {"hosts": {"povo": dict(local, fog_region="POVO", fog_tier=1, fog_cpu_millicores=1000,
                                                   fog_memory_mib=1024, fog_storage_gib=10,
                                                   fog_devices=["cam1:camera"])}}}},
        "provider_b": {"hosts": {"seoul-keti": dict(local, fog_offerable=True)}},
    }}}
    write_inventory(base, market, hosts=hosts, extra_group_vars={
        "all": dict(reb_rpc_url=market.anvil.url, reb_chain_id=31337, reb_contract_address=market.reb.address,
                    lab_root=str(ROOT), fog_provisioning_key=str(d / "keys" / "provisioning"),
                    fog_rented_known_hosts=str(d / "rented_known_hosts")),
        "provider_a": dict(fog_provider="provider_a", reb_private_key=market.keys[1], fog_location="46.0667,11.1500"),
        "provider_b": dict(fog_provider="provider_b", reb_private_key=market.keys[2],
                           fog_authorized_keys_file=str(d / "authorized_keys"),
                           fog_host_key_file=str(d / "host_key.pub"),
                           fog_access_endpoint="127.0.0.1:%d" % free_port()),
        "reb_rented": dict(ansible_user="root", ansible_ssh_private_key_file=str(d / "keys" / "provisioning"),
                           ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                                   "-o ConnectTimeout=3"),
    })
    return base


@pytest.fixture(scope="module")
def gui(run_inventory, tmp_path_factory):
    server = Gui(run_inventory, tmp_path_factory.mktemp("gui"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser: Debian's Chromium, headless, off the network (never `playwright install`)."""
    from tests.resource_selector.browser import launch_args
    return launch_args(browser_type_launch_args)

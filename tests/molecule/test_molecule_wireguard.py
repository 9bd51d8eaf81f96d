"""The wireguard role end to end: `molecule test -s wireguard` against a throwaway namespace lab.

The scenario (molecule/wireguard) builds its own three hosts (namespaces wgt-*, never the main lab's
fog-*), joins a hub and two members with real WireGuard (wireguard-go), checks idempotence, pings
through the overlay, checks the refusals, lets one member leave, and removes the lab.
"""
from tests.molecule.scenario import run_scenario


def test_molecule_wireguard():
    run_scenario("wireguard", timeout=900)

"""--check through ansible-playbook: every write module predicts its change and sends nothing; the real run then
does exactly what check mode predicted. (The market it starts from is set up in-process.)"""
from tests.reb_modules.conftest import A, B, C, DEPLOYER, play

PRICE = 2000

def setup_market(reb, ssh_material):
    """Four open offers of B; A requests two of them; B rejects one, so A is owed a refund. The offers' ids."""
    key_a, key_b = reb.keys[A], reb.keys[B]
    reb.ok("reb_provider", name="Provider B (KETI)", private_key=key_b)
    offers = [reb.ok("reb_offer", private_key=key_b, node_id=node, region="TRENTO-FBK", location="46.0664,11.1257",
                     cpu_millicores=1000, memory_mib=1024, price_per_hour=PRICE)["offer"]["id"]
              for node in ("cm-open", "cm-requested", "cm-rejected", "cm-retired")]
    for offer_id in offers[1:3]:
        reb.ok("reb_reservation", private_key=key_a, state="requested", offer_id=offer_id, hours=2,
               buyer_public_key=ssh_material["buyer_public_key"])
    reb.ok("reb_reservation", private_key=key_b, state="rejected", offer_id=offers[2])
    return offers


WRITES = play("""
- name: Deploy another REB
  decenter.fog.reb_contract:
    contract_address: ""
    private_key: "{{ key_deployer }}"

- name: Register provider C
  decenter.fog.reb_provider:
    name: Provider C
    private_key: "{{ key_c }}"

- name: Publish cm-new
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: cm-new
    region: TRENTO-FBK
    cpu_millicores: 2000
    memory_mib: 2048
    price_per_hour: "{{ price }}"

- name: Reprice cm-retired
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: cm-retired
    region: TRENTO-FBK
    location: "46.0664,11.1257"
    cpu_millicores: 1000
    memory_mib: 1024
    price_per_hour: "{{ price * 2 }}"

- name: Withdraw cm-retired
  decenter.fog.reb_offer:
    private_key: "{{ key_b }}"
    node_id: cm-retired
    state: absent

- name: Buyer A reserves cm-open
  decenter.fog.reb_reservation:
    private_key: "{{ key_a }}"
    state: requested
    offer_id: "{{ offer_ids[0] }}"
    hours: 3
    buyer_public_key: "{{ buyer_public_key }}"
  register: booking

- name: Seller B accepts cm-requested
  decenter.fog.reb_reservation:
    private_key: "{{ key_b }}"
    state: accepted
    offer_id: "{{ offer_ids[1] }}"
    access_endpoint: "192.0.2.7:22"
    host_key_fingerprint: "{{ host_fingerprint }}"

- name: Buyer A collects its refund
  decenter.fog.reb_withdraw:
    private_key: "{{ key_a }}"
""", "Every kind of write")


def test_check_mode_sends_nothing_and_predicts_the_real_run(reb, ssh_material):
    keys = dict(price=PRICE, buyer_public_key=ssh_material["buyer_public_key"],
                host_fingerprint=ssh_material["host_fingerprint"])
    keys["offer_ids"] = setup_market(reb, ssh_material)
    owed = reb.owed(reb.accounts[A])
    assert owed == 2 * PRICE
    involved = tuple(reb.accounts[i] for i in (DEPLOYER, A, B, C))
    nonces, balances = reb.nonces(*involved), reb.balances(*involved)
    counts = (reb.offer_count(), reb.reservation_count())

    check = reb.run(WRITES, keys, args=["--check", "--diff"])
    assert check.rc == 0, check
    predicted = check.changed_tasks()
    assert predicted == [name for name, _ in check.results], check  # every task would change something
    assert reb.nonces(*involved) == nonces, "check mode sent a transaction"
    assert reb.balances(*involved) == balances
    assert (reb.offer_count(), reb.reservation_count()) == counts
    assert reb.contract.functions.providerOf(reb.accounts[C]).call()[1] is False
    assert reb.owed(reb.accounts[A]) == owed
    for name, result in check.results:
        assert "transaction_hash" not in result, name
        assert "diff" in result, name
    assert check.task("Reprice cm-retired")["changed_fields"] == ["price_per_hour"]
    assert check.task("Buyer A reserves cm-open")["reservation"]["escrow"] == 3 * PRICE
    assert check.task("Seller B accepts cm-requested")["diff"]["after"] == {"state": "accepted"}
    assert check.task("Buyer A collects its refund")["amount"] == owed

    real = reb.run(WRITES, keys)
    assert real.rc == 0, real
    assert real.changed_tasks() == predicted
    for name, result in real.results:
        assert result.get("transaction_hash"), name
    assert real.task("Buyer A reserves cm-open")["reservation"]["state"] == "requested"
    assert reb.owed(reb.accounts[A]) == 0

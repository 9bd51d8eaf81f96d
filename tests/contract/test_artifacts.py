"""The committed artifacts match the source, and what is on chain matches the artifact."""
import subprocess

from tests.contract.helpers import REPO, WINDOW
from tests.support.chain import artifact


def test_compile_check_passes():
    """`node contracts/compile.js --check`: the committed JSON and Python artifacts are fresh."""
    p = subprocess.run(["node", "contracts/compile.js", "--check"], cwd=str(REPO), capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_artifact_settings():
    a = artifact()
    assert a["contractName"] == "ResourceExchangeBroker"
    assert a["compiler"].startswith("solc-js 0.8.37")
    assert a["settings"]["evmVersion"] == "prague"
    assert a["deployedBytecode"].startswith("0x") and len(a["deployedBytecode"]) > 1000


def test_deployed_bytecode_equals_artifact(chain):
    """The runtime code on chain is the committed deployedBytecode with the acceptWindow immutable written
    into exactly the byte ranges the artifact lists (what reb_client masks when it verifies a deployment)."""
    art = artifact()
    want = bytearray.fromhex(art["deployedBytecode"][2:])
    refs = art["immutableReferences"]
    assert refs, "the immutable acceptWindow should appear in the runtime code"
    for window in (WINDOW, 2 * WINDOW):
        got = bytes(chain.w3.eth.get_code(chain.deploy(accept_window=window).address))
        patched = bytearray(want)
        for ref in refs:
            assert bytes(want[ref["start"]:ref["start"] + ref["length"]]) == bytes(ref["length"])
            patched[ref["start"]:ref["start"] + ref["length"]] = window.to_bytes(ref["length"], "big")
        assert bytes(patched) == got

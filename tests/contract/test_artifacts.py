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
    """With acceptWindow 0 the runtime code is byte for byte the committed deployedBytecode; with
    another window it differs only in the 32-byte words solc left for the immutable."""
    want = bytes.fromhex(artifact()["deployedBytecode"][2:])
    zero = chain.deploy(accept_window=0)
    assert bytes(chain.w3.eth.get_code(zero.address)) == want
    reb = chain.deploy(accept_window=WINDOW)
    got = bytes(chain.w3.eth.get_code(reb.address))
    assert len(got) == len(want)
    diff = [i for i in range(len(want)) if got[i] != want[i]]
    assert diff, "the immutable acceptWindow should appear in the runtime code"
    word = WINDOW.to_bytes(32, "big")
    starts = set()
    for i in diff:  # every differing byte lies in a word that is zero in the artifact and WINDOW on chain
        hits = [s for s in range(max(0, i - 31), i + 1)
                if got[s:s + 32] == word and want[s:s + 32] == bytes(32)]
        assert hits, "byte %d differs outside an immutable slot" % i
        starts.update(hits)
    patched = bytearray(want)
    for s in starts:
        patched[s:s + 32] = word
    assert bytes(patched) == got

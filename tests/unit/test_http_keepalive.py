"""Every HTTP/1.1 server of ours (the lab chain's keeper, the app's services, the API stand-ins) turns Nagle off:
BaseHTTPRequestHandler writes the headers and the body in two writes, and on a kept-alive connection the body then
waits for the client's delayed ACK - 40 ms per request (measured on the lab chain: 42 ms per JSON-RPC call with
web3.py, 2 ms without Nagle)."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "node_modules", ".git", ".lab"}


def sources():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP]
        yield from (Path(top) / f for f in files if f.endswith(".py"))


def test_every_keep_alive_handler_turns_nagle_off():
    keep_alive = [p for p in sources() if re.search(r'protocol_version = "HTTP/1\.1"', p.read_text(errors="replace"))]
    assert len(keep_alive) >= 4, "the servers this test is about were not found: %s" % keep_alive
    missing = [str(p.relative_to(ROOT)) for p in keep_alive if "disable_nagle_algorithm = True" not in p.read_text()]
    assert not missing, "HTTP/1.1 handlers without disable_nagle_algorithm = True: %s" % missing

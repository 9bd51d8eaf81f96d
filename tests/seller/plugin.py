"""The event source plugin imported as ansible-rulebook does (by path)."""
import runpy
import sys
import types

from tests.seller.market import ROOT, SOURCE


def load_source():
    if str(ROOT / "collections") not in sys.path:
        sys.path.insert(0, str(ROOT / "collections"))
    return types.SimpleNamespace(**runpy.run_path(str(SOURCE)))

"""The collection importable as ansible_collections.decenter.fog (its modules import its module_utils)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

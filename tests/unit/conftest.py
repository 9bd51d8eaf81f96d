import sys
from pathlib import Path

# Import the collection as Ansible does: ansible_collections.decenter.fog...
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

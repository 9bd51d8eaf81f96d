import sys
from pathlib import Path

# Import the collection as Ansible does: ansible_collections.decenter.fog...
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))

from tests.support.kube_api import kube_api  # noqa: E402,F401  (fixture: a fresh Kubernetes API test server)

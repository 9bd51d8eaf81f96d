"""decenter.fog.k8s_object_keys: the keys fog_deploy records on the app's namespace (apiVersion/kind/name)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.decenter.fog.plugins.filter.k8s_object_keys import FilterModule, k8s_object_keys


def test_keys_of_manifests_and_listed_objects_in_their_order():
    objects = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "simple-ocr-webserver"}},
        # as k8s_info returns them: the same fields, among many others
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "simple-ocr-webserver", "uid": "u1"},
         "spec": {"ports": []}},
    ]
    assert k8s_object_keys(objects) == ["apps/v1/Deployment/simple-ocr-webserver", "v1/Service/simple-ocr-webserver"]
    assert k8s_object_keys([]) == [] and k8s_object_keys(None) == []
    assert FilterModule().filters()["k8s_object_keys"] is k8s_object_keys


@pytest.mark.parametrize("bad", [{"kind": "Service", "metadata": {"name": "x"}}, {"apiVersion": "v1", "kind": "Pod"},
                                 "v1/Service/x"], ids=["no apiVersion", "no name", "not a dict"])
def test_an_object_without_its_key_fields_is_said_plainly(bad):
    with pytest.raises(AnsibleFilterError, match=r"k8s_object_keys: object 1 has no apiVersion, kind and metadata\.name"):
        k8s_object_keys([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok"}}, bad])

"""The PATCH flavours of the Kubernetes API test server, as functions."""
import pytest

from tests.support.kube_api_patch import PatchError, json_patch, merge_patch, strategic_merge_patch

POD = {"spec": {"containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
                               {"name": "b", "image": "b:1"}],
                "tolerations": [{"key": "x"}]}}


def test_merge_patch_replaces_lists_and_deletes_with_null():
    out = merge_patch(POD, {"spec": {"containers": [{"name": "a", "image": "a:2"}], "tolerations": None}})
    assert out == {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}


def test_strategic_merge_merges_containers_by_name_and_ports_by_container_port():
    out = strategic_merge_patch(POD, {"spec": {"containers": [
        {"name": "a", "image": "a:2", "ports": [{"containerPort": 81}]}, {"name": "c", "image": "c:1"}]}})
    containers = out["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a", "b", "c"]
    assert containers[0]["image"] == "a:2"
    assert containers[0]["ports"] == [{"containerPort": 80}, {"containerPort": 81}]
    assert out["spec"]["tolerations"] == [{"key": "x"}]


def test_strategic_merge_directives_delete_and_replace():
    out = strategic_merge_patch(POD, {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["a"]
    out = strategic_merge_patch(POD, {"spec": {"$patch": "replace", "containers": []}})
    assert out == {"spec": {"containers": []}}


def test_strategic_merge_replaces_lists_without_merge_key():
    out = strategic_merge_patch(POD, {"spec": {"tolerations": [{"key": "y"}]}})
    assert out["spec"]["tolerations"] == [{"key": "y"}]
    assert POD["spec"]["tolerations"] == [{"key": "x"}], "the input must not be modified"


def test_json_patch_operations():
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"items": [1, 2]}}
    out = json_patch(doc, [{"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
                           {"op": "remove", "path": "/metadata/labels/a"},
                           {"op": "replace", "path": "/spec/items/0", "value": 9},
                           {"op": "add", "path": "/spec/items/-", "value": 3},
                           {"op": "copy", "from": "/spec/items", "path": "/spec/copy"},
                           {"op": "test", "path": "/spec/copy/2", "value": 3}])
    assert out == {"metadata": {"labels": {"b/c": "2"}}, "spec": {"items": [9, 2, 3], "copy": [9, 2, 3]}}


@pytest.mark.parametrize("ops", [[{"op": "remove", "path": "/nope"}],
                                 [{"op": "test", "path": "/a", "value": 2}],
                                 [{"op": "frobnicate", "path": "/a"}],
                                 {"op": "add"}])
def test_json_patch_errors(ops):
    with pytest.raises(PatchError):
        json_patch({"a": 1}, ops)

"""Label and field selectors of the Kubernetes API test server."""
import pytest

from tests.support.kube_api_selectors import SelectorError, field_matcher, label_matcher


@pytest.mark.parametrize("selector,labels,expected", [
    ("", {}, True),
    ("region=POVO", {"region": "POVO"}, True),
    ("region==POVO", {"region": "SEOUL"}, False),
    ("region!=POVO", {}, True),
    ("region in (POVO, SEOUL),tier", {"region": "SEOUL", "tier": "1"}, True),
    ("region in (POVO, SEOUL),tier", {"region": "SEOUL"}, False),
    ("region notin (POVO)", {"region": "POVO"}, False),
    ("!tier", {"tier": "0"}, False),
    ("app.kubernetes.io/name=ocr", {"app.kubernetes.io/name": "ocr"}, True),
])
def test_label_selectors(selector, labels, expected):
    assert label_matcher(selector)(labels) is expected


def test_field_selectors():
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "povo"}, "status": {"phase": "Running"}}
    assert field_matcher("spec.nodeName=povo,status.phase!=Failed")(pod)
    assert not field_matcher("spec.nodeName=seoul")(pod)
    assert field_matcher("spec.unschedulable!=true")({"spec": {}})
    token = {"type": "bootstrap.kubernetes.io/token"}
    assert field_matcher("type=bootstrap.kubernetes.io/token")(token)
    assert not field_matcher("type=Opaque")(token)


@pytest.mark.parametrize("bad", ["a in b", "=x", "a=(b"])
def test_bad_selectors(bad):
    with pytest.raises(SelectorError):
        label_matcher(bad)

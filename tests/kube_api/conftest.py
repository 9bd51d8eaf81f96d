from tests.support.kube_api import kube_api  # noqa: F401  (the fixture)

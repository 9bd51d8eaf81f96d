"""Serve ansible-test's pip bootstrap offline (called by `make setup` and by the quality tests).

`ansible-test --venv` bootstraps pip in each venv with a get-pip script it downloads from a host we
cannot reach. It looks in ~/.ansible/test/cache/get_pip_<version>.py first, so we put there a
stand-in that installs pip from a wheel downloaded beside it from PyPI. The per-test requirements
then install from PyPI as usual. Idempotent: does nothing when both files are present.
"""
import os
import subprocess
import sys
import types

from ansible_test._internal.python_requirements import get_venv_packages

CACHE = os.path.expanduser("~/.ansible/test/cache")

# Run by ansible-test as a module with pip's arguments, like get-pip.py; the get-pip options that
# pip itself does not know are dropped.
STAND_IN = '''"""Offline stand-in for get-pip.py {version} (written by tests/quality/ansible_test_bootstrap.py)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "{wheel}")
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "--no-index", "--find-links", HERE] + args))
'''


def main():
    version = get_venv_packages(types.SimpleNamespace(version="%d.%d" % sys.version_info[:2]))["pip"]
    script = os.path.join(CACHE, "get_pip_%s.py" % version.replace(".", "_"))
    wheel = "pip-%s-py3-none-any.whl" % version
    if os.path.exists(script) and os.path.exists(os.path.join(CACHE, wheel)):
        print("ansible-test bootstrap: %s present" % script)
        return 0
    os.makedirs(CACHE, exist_ok=True)
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--only-binary=:all:", "--dest", CACHE, "pip==%s" % version]
    if subprocess.run(download, check=False).returncode != 0 or not os.path.exists(os.path.join(CACHE, wheel)):
        sys.stderr.write("ansible-test bootstrap: could not download %s from the package index; "
                         "check the pip configuration (index-url) and retry.\n" % wheel)
        return 1
    with open(script + ".tmp", "w") as out:
        out.write(STAND_IN.format(version=version, wheel=wheel))
    os.replace(script + ".tmp", script)
    print("ansible-test bootstrap: wrote %s" % script)
    return 0


if __name__ == "__main__":
    sys.exit(main())

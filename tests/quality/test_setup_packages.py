"""apt-packages.txt is the one list of Debian packages: `make setup` installs it, molecule checks it on hosts.

Each line names a package and a file the project uses from it. On a machine `make setup` prepared, each file
is there and belongs to that package, so a line cannot name a program the package does not ship (as the
molecule check once asked for `tesseract`, which only the dropped `tesseract-ocr` package had).
"""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERS = {"host", "controller"}


def entries():
    lines = (line.split() for line in (ROOT / "apt-packages.txt").read_text().splitlines())
    return [fields for fields in lines if fields and not fields[0].startswith("#")]


def test_each_line_names_a_package_a_file_and_who_uses_it():
    found = entries()
    assert found, "apt-packages.txt lists no package"
    for fields in found:
        assert len(fields) == 3 and fields[2] in USERS, "bad line in apt-packages.txt: %s" % " ".join(fields)
    names = [fields[0] for fields in found]
    assert len(names) == len(set(names)), "a package is listed twice: %s" % names


def test_make_setup_installs_exactly_the_list():
    out = subprocess.run(["make", "-s", "-n", "apt"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name, _, _ in entries():
        assert " %s " % name in out, "make apt does not install %s" % name


def test_each_file_is_there_and_comes_from_its_package():
    for name, path, _ in entries():
        assert Path(path).exists(), "%s is missing: `make setup` installs %s" % (path, name)
        owner = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
        assert owner.returncode == 0, "no Debian package owns %s (%s)" % (path, owner.stderr.strip())
        owners = {p.strip().split(":")[0] for p in owner.stdout.split(":", 1)[0].split(",")}
        assert name in owners, "%s belongs to %s, not to %s" % (path, sorted(owners), name)

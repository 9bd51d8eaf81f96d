"""decenter.fog.kube_ca_hash: the discovery hash kubeadm checks, compared with openssl's own computation."""
import datetime
import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.decenter.fog.plugins.filter.kube_ca_hash import FilterModule, kube_ca_hash


def _ca(key, name="kubernetes"):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _openssl_hash(pem):
    """kubeadm's documented recipe, run by openssl (independent of the filter's code)."""
    pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=pem.encode(), capture_output=True,
                         check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True,
                         check=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-hex"], input=der, capture_output=True,
                            check=True).stdout.decode()
    return "sha256:" + digest.split("= ")[-1].strip()


@pytest.mark.parametrize("key", [rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                 ec.generate_private_key(ec.SECP256R1())], ids=["rsa", "ecdsa"])
def test_hash_is_what_openssl_computes(key):
    pem = _ca(key)
    value = kube_ca_hash(pem)
    assert value == _openssl_hash(pem)
    assert value.startswith("sha256:") and len(value) == len("sha256:") + 64


def test_hash_depends_on_the_public_key_only():
    key = ec.generate_private_key(ec.SECP256R1())
    # Two certificates of the same key (different names and serials) pin the same key; another key differs.
    assert kube_ca_hash(_ca(key, "a")) == kube_ca_hash(_ca(key, "b"))
    assert kube_ca_hash(_ca(key)) != kube_ca_hash(_ca(ec.generate_private_key(ec.SECP256R1())))


def test_first_certificate_of_a_bundle_with_leading_text():
    first, second = _ca(ec.generate_private_key(ec.SECP256R1())), _ca(ec.generate_private_key(ec.SECP256R1()))
    assert kube_ca_hash("subject=CN = kubernetes\n" + first + second) == _openssl_hash(first)
    assert kube_ca_hash(first.encode()) == _openssl_hash(first)


@pytest.mark.parametrize("bad, message", [
    ("", "not a PEM certificate"),
    (None, "not a PEM certificate"),
    ("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n", "not a PEM certificate"),
    ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "cannot be read"),
])
def test_bad_input_is_a_sentence(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        kube_ca_hash(bad)


def test_registered_under_its_name():
    assert FilterModule().filters() == {"kube_ca_hash": kube_ca_hash}

"""A throwaway CA and server certificate for the Kubernetes API test server, and its kubeconfig.

Clients verify TLS for real against this CA (no `insecure-skip-tls-verify`). Keys are test keys in the
server's state directory; they are never used outside a test run.
"""
import base64
import datetime
import ipaddress
import os
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write_private(path, data):
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_pki(state_dir, hosts=("127.0.0.1", "localhost")):
    """Create ca.crt, server.crt and server.key in state_dir unless they exist. Returns their paths."""
    state_dir = Path(state_dir)
    ca_crt, crt, key_path = state_dir / "ca.crt", state_dir / "server.crt", state_dir / "server.key"
    if ca_crt.exists() and crt.exists() and key_path.exists():
        return ca_crt, crt, key_path
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for h in list(hosts) + ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_crt.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_private(state_dir / "ca.key", _key_pem(ca_key))
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(key_path, _key_pem(key))
    return ca_crt, crt, key_path


def kubeconfig(server_url, ca_pem, token=None, user="test-admin"):
    """A kubeconfig dict for server_url trusting ca_pem; with a token user when token is given."""
    ca_b64 = base64.b64encode(ca_pem).decode()
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "test", "cluster": {"server": server_url, "certificate-authority-data": ca_b64}}],
           "contexts": [{"name": "test", "context": {"cluster": "test", "user": user}}],
           "current-context": "test", "preferences": {}, "users": []}
    if token is not None:
        cfg["users"] = [{"name": user, "user": {"token": token}}]
    else:
        cfg["contexts"][0]["context"]["user"] = ""
    return cfg


def write_kubeconfig(path, server_url, ca_pem, token):
    _write_private(path, yaml.safe_dump(kubeconfig(server_url, ca_pem, token), sort_keys=False).encode())

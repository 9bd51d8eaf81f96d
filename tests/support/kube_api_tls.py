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


def _new_ca(now):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-test-ca")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def ensure_pki(state_dir, hosts=("127.0.0.1", "localhost")):
    """The CA (created once: ca.crt, ca.key) and a server certificate for `hosts`, issued anew at every start
    (server.crt, server.key) so the SANs always match the command line. Returns the three paths."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key_path = state_dir / "ca.crt", state_dir / "ca.key"
    crt, key_path = state_dir / "server.crt", state_dir / "server.key"
    now = datetime.datetime.now(datetime.timezone.utc)
    if ca_crt.exists() and ca_key_path.exists():
        ca = x509.load_pem_x509_certificate(ca_crt.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    else:
        ca, ca_key = _new_ca(now)
        ca_crt.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        _write_private(ca_key_path, _key_pem(ca_key))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for h in dict.fromkeys(list(hosts) + ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
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

# -*- coding: utf-8 -*-
# (c) decenter-fog contributors; Apache-2.0
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: kube_ca_hash
short_description: kubeadm discovery hash of a cluster CA certificate
description:
  - Returns C(sha256:<hex>), the SHA-256 of the certificate's DER-encoded SubjectPublicKeyInfo, which is what
    C(kubeadm join --discovery-token-ca-cert-hash) and C(JoinConfiguration.discovery.bootstrapToken.caCertHashes)
    expect (kubeadm's C(pubkeypin) format).
  - The same value as C(openssl x509 -pubkey -in ca.crt | openssl pkey -pubin -outform der | sha256sum).
  - Only the first certificate of a PEM bundle is used, like kubeadm does with C(ca.crt).
version_added: 0.1.0
author: decenter-fog contributors
requirements:
  - cryptography (Python, on the controller)
positional: _input
options:
  _input:
    description: The CA certificate, PEM text (for example the content of C(/etc/kubernetes/pki/ca.crt)).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Read the cluster CA on the first control-plane node
  ansible.builtin.slurp:
    src: /etc/kubernetes/pki/ca.crt
  register: cluster_ca

- name: Discovery hash for kubeadm join
  ansible.builtin.debug:
    msg: "{{ cluster_ca.content | b64decode | decenter.fog.kube_ca_hash }}"
'''

RETURN = r'''
_value:
  description: C(sha256:) followed by 64 lower-case hex digits.
  type: str
  sample: sha256:0fd7b46a1b1e8c1c0b3b2ad5f5c5f0e95c8a9a0b2c3d4e5f60718293a4b5c6d7
'''

import hashlib

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # reported when the filter is used, not when Ansible loads it
    HAS_CRYPTOGRAPHY = False

PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def kube_ca_hash(pem):
    if not HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("kube_ca_hash needs the Python library cryptography on the controller: "
                                 "pip install cryptography.")
    data = to_bytes(pem or "", errors="surrogate_or_strict")
    start = data.find(PEM_BEGIN)
    if start < 0:
        raise AnsibleFilterError("kube_ca_hash: the input is not a PEM certificate (no '-----BEGIN CERTIFICATE-----' "
                                 "line); pass the content of the cluster CA, e.g. /etc/kubernetes/pki/ca.crt.")
    try:
        cert = x509.load_pem_x509_certificate(data[start:])
    except ValueError as e:
        raise AnsibleFilterError("kube_ca_hash: the cluster CA certificate cannot be read (%s); pass the PEM "
                                 "content of /etc/kubernetes/pki/ca.crt." % e)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


class FilterModule(object):
    def filters(self):
        return {"kube_ca_hash": kube_ca_hash}

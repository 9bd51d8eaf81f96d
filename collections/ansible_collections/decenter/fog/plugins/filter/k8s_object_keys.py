# -*- coding: utf-8 -*-
# (c) decenter-fog contributors; Apache-2.0
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: k8s_object_keys
short_description: The keys by which fog_deploy records the Kubernetes objects it applied
description:
  - Returns C(apiVersion/kind/name) for each Kubernetes object of the input, in its order.
  - The C(fog_deploy) role records these keys on the app's namespace (annotation C(decenter.fog/objects)) for what it
    applied, and compares them with what is wanted, with what a listing found and with what an undeploy removed.
version_added: 0.1.0
author: decenter-fog contributors
positional: _input
options:
  _input:
    description: Kubernetes objects (manifests, or the C(resources) that C(kubernetes.core.k8s_info) returns).
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
- name: Keys of the objects a listing found
  ansible.builtin.debug:
    msg: "{{ listing.resources | decenter.fog.k8s_object_keys }}"  # e.g. ['apps/v1/Deployment/web']
'''

RETURN = r'''
_value:
  description: One C(apiVersion/kind/name) string per object.
  type: list
  elements: str
  sample: [apps/v1/Deployment/simple-ocr-webserver, v1/Service/simple-ocr-webserver]
'''

from ansible.errors import AnsibleFilterError


def k8s_object_keys(objects):
    keys = []
    for index, obj in enumerate(objects or []):
        try:
            keys.append("%s/%s/%s" % (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]))
        except (KeyError, TypeError):
            raise AnsibleFilterError("k8s_object_keys: object %d has no apiVersion, kind and metadata.name (%.200r); "
                                     "pass Kubernetes objects." % (index, obj))
    return keys


class FilterModule(object):
    def filters(self):
        return {"k8s_object_keys": k8s_object_keys}

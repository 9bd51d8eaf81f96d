"""The three PATCH flavours of the Kubernetes API, for the Kubernetes API test server.

- JSON merge patch (RFC 7386), `application/merge-patch+json`: exact.
- JSON patch (RFC 6902), `application/json-patch+json`: add, remove, replace, move, copy, test.
- Strategic merge patch, `application/strategic-merge-patch+json` (and server-side apply, which is
  served as a strategic merge here): an approximation of the real one. Lists of objects merge by the
  merge keys the Kubernetes types declare (containers/env/volumes... by `name`, container ports by
  `containerPort`, service ports by `port`, volumeMounts by `mountPath`, conditions by `type`); other
  lists are replaced; `null` deletes a key; `$patch: replace|delete` is honoured on maps and list items;
  other `$`-directives (`$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`) are ignored.
"""
import copy

# Field name -> merge key, from the patchMergeKey tags of k8s.io/api types.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "conditions": "type", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
    "ownerReferences": "uid", "taints": "key", "addresses": "type",
}


class PatchError(ValueError):
    """A patch that cannot apply (the server answers 422 or 400)."""


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _list_merge_key(field, items):
    if field == "ports":
        if all(isinstance(i, dict) and "containerPort" in i for i in items):
            return "containerPort"
        if all(isinstance(i, dict) and "port" in i for i in items):
            return "port"
        return None
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            result[key] = [_strip(v) for v in value] if isinstance(value, list) else copy.deepcopy(value)
    return result


def _strip(value):
    """A list item from a patch with its directives removed (for a list that is simply replaced)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    return copy.deepcopy(value)


def _merge_list(field, current, patch_items):
    merge_key = _list_merge_key(field, current + patch_items)
    if merge_key is None:
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch_items):
            return [_strip(i) for i in patch_items if not (isinstance(i, dict) and i.get("$patch"))]
        return [_strip(i) for i in patch_items]
    result = copy.deepcopy(current)
    for item in patch_items:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError("list %s: every item needs the merge key %s" % (field, merge_key))
        if item.get("$patch") == "replace":
            return [_strip(i) for i in patch_items if i.get("$patch") != "replace"]
        index = next((n for n, cur in enumerate(result) if cur.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("JSON pointer %r must start with /" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts):
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise PatchError("path segment %r does not exist" % part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PatchError("path segment %r does not exist" % part)
    return node


def _get(doc, parts):
    parent = _parent(doc, parts)
    last = parts[-1]
    try:
        return parent[int(last)] if isinstance(parent, list) else parent[last]
    except (ValueError, IndexError, KeyError, TypeError):
        raise PatchError("path %r does not exist" % "/".join(parts))


def _remove(doc, parts):
    value = _get(doc, parts)
    parent = _parent(doc, parts)
    if isinstance(parent, list):
        del parent[int(parts[-1])]
    else:
        del parent[parts[-1]]
    return value


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _parent(doc, parts)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                index = int(last)
            except ValueError:
                raise PatchError("list index %r is not a number" % last)
            if index > len(parent):
                raise PatchError("list index %d is out of range" % index)
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError("cannot add below a scalar at %r" % last)
    return doc


def json_patch(target, operations):
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("every JSON patch operation needs op and path: %r" % (op,))
        parts = _pointer(op["path"])
        kind = op["op"]
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, parts, value)
        elif kind == "test":
            if (_get(doc, parts) if parts else doc) != op.get("value"):
                raise PatchError("test operation failed at %s" % op["path"])
        else:
            raise PatchError("unknown JSON patch operation %r" % kind)
    return doc

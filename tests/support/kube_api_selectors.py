"""Label and field selectors as the Kubernetes API parses them, for the Kubernetes API test server.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated (AND).
Field selectors: `path=v`, `path==v`, `path!=v` on dotted paths such as metadata.name, metadata.namespace,
spec.nodeName, status.phase, type (the real server allows a per-kind list; this one allows any path).
"""
import re


class SelectorError(ValueError):
    """A selector the server cannot parse (answered with 400 BadRequest)."""


def _split(selector):
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


_SET = re.compile(r"^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_CMP = re.compile(r"^([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)$")
# Field values may hold "/" and ":" (type=bootstrap.kubernetes.io/token); "," separates terms, as on the real server.
_FIELD = re.compile(r"^([A-Za-z0-9_.-]+)\s*(==|!=|=)\s*([^,]*)$")
_EXISTS = re.compile(r"^(!?)([A-Za-z0-9_./-]+)$")


def label_matcher(selector):
    """A function labels-dict -> bool for a label selector string (empty selects everything)."""
    tests = []
    for term in _split(selector or ""):
        m = _SET.match(term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
            continue
        m = _CMP.match(term)
        if m:
            key, op, value = m.groups()
            if op == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        m = _EXISTS.match(term)
        if m:
            neg, key = m.groups()
            tests.append(lambda labels, k=key, n=bool(neg): (k in labels) != n)
            continue
        raise SelectorError("unable to parse requirement: %r" % term)
    return lambda labels: all(t(labels or {}) for t in tests)


def _field(obj, path):
    node = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_matcher(selector):
    """A function object -> bool for a field selector string (empty selects everything)."""
    tests = []
    for term in _split(selector or ""):
        m = _FIELD.match(term)
        if not m:
            raise SelectorError("invalid field selector: %r" % term)
        path, op, value = m.groups()
        if op == "!=":
            tests.append(lambda obj, p=path, v=value: _field(obj, p) != v)
        else:
            tests.append(lambda obj, p=path, v=value: _field(obj, p) == v)
    return lambda obj: all(t(obj) for t in tests)

"""The Resource Selector GUI: the buyer's market view of the REB, the app's unmet requirements, one
button that reserves and federates (playbooks through ansible-runner, live progress), and release.

Run from the repository root: `python -m apps.resource_selector --inventory inventories/lab/provider_a`.
"""

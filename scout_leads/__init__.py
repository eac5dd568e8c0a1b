"""What people do with leads, over the warehouse: list them, move them, exclude them, forget them.

One floor under the CLI, the dashboard and the HTTP API, so the three agree on every state: the
lead list and its filters (``lead_list``), lead state (``state``), do-not-contact entries
(``exclusions``) and the marts reader (``reader``). It imports the contract and the resources,
never Dagster's assets, so the dashboard and the API can use it without loading the code location.
"""

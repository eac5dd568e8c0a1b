"""Scout's HTTP API (docs/api.md): leads, lead state, exclusions, searches, run progress and cost.

A FastAPI app over the same operations as the CLI and the dashboard (``scout_leads``): it reads the
marts through ``MartReader``, writes through ``WarehouseClient`` and starts searches through
Dagster's own GraphQL client, never by loading the code location. ``create_app`` builds it from
``ScoutSettings``; ``python -m scout_api`` (``infra/scripts/api.sh``) serves it on 127.0.0.1.
"""

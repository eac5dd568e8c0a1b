#!/usr/bin/env bash
# Starts Scout's HTTP API (FastAPI) at http://127.0.0.1:${PORT:-8000}; OpenAPI docs at /docs.
# Reads the warehouse SCOUT_WAREHOUSE_URL names (empty: data/scout.duckdb) and launches searches
# through the Dagster webserver at SCOUT_DAGSTER_URL (default http://127.0.0.1:3000: infra/scripts/ui.sh).
# Keys: `scout api-key create --name NAME --scope read|write` (docs/api.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh
source infra/scripts/env.sh
exec python -m scout_api --host 127.0.0.1 --port "${PORT:-8000}"

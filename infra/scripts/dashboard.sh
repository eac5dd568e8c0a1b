#!/usr/bin/env bash
# Starts Scout's dashboard (Streamlit, reads the dbt marts only) at http://127.0.0.1:${PORT:-8501}.
# The warehouse is the one SCOUT_WAREHOUSE_URL names (empty: data/scout.duckdb); the marts must have
# been built (Dagster's dbt assets, or infra/scripts/dbt_docs.sh --build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh
source infra/scripts/env.sh
exec streamlit run scout_dashboard/app.py \
  --server.address 127.0.0.1 --server.port "${PORT:-8501}" \
  --server.headless true --server.fileWatcherType none \
  --browser.gatherUsageStats false --global.developmentMode false --client.toolbarMode viewer

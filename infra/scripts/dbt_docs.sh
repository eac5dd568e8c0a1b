#!/usr/bin/env bash
# Generates the dbt docs site from the current warehouse and serves it at http://127.0.0.1:${PORT:-8080}.
# The warehouse is the one SCOUT_WAREHOUSE_URL names (empty: data/scout.duckdb). Add --build to run
# `dbt build` first (the marts' catalog only lists tables that exist). Serves until interrupted.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh
source infra/scripts/env.sh
# SCOUT_WAREHOUSE_URL -> the variables dbt_project/profiles.yml reads (password in DBT_ENV_SECRET_*).
eval "$(python -m scout_cli.dbt_env)"
cd dbt_project
if [ "${1:-}" = "--build" ]; then
  dbt build
fi
dbt docs generate
exec dbt docs serve --host 127.0.0.1 --port "${PORT:-8080}" --no-browser

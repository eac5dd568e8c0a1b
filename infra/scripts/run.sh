#!/usr/bin/env bash
# The README's run command: install, then materialize the main job once for today on every
# platform on the embedded default (DuckDB + local Dagster storage + the API sandbox).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh
source infra/scripts/env.sh
exec scout run "$@"

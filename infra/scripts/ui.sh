#!/usr/bin/env bash
# Starts the Dagster UI and daemon on the embedded default at http://127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh
source infra/scripts/env.sh
exec dagster dev -w workspace.yaml -h 127.0.0.1 -p "${PORT:-3000}"

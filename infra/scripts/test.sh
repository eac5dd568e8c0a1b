#!/usr/bin/env bash
# The README's test command: install with the dev tools, lint, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh dev
source infra/scripts/env.sh
ruff check .
exec pytest "$@"

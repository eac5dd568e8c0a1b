#!/usr/bin/env bash
# The README's test command: install with the dev tools, lint (code and import floors), then run the
# whole test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/setup.sh dev
# The dashboard's browser test drives Debian's Chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser test ..."
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
source infra/scripts/env.sh
ruff check .
lint-imports   # the floors of docs/architecture.md, as import-linter contracts in pyproject.toml
# Two workers (the machine's two cores), one test file per worker at a time: a file's module-scoped
# fixtures (a dbt build, a Dagster webserver) are built once. SCOUT_TEST_WORKERS=0 runs in one process.
exec pytest -n "${SCOUT_TEST_WORKERS:-2}" --dist loadfile "$@"

#!/usr/bin/env bash
# Installs Scout into .venv. Usage: setup.sh [dev]. Idempotent: a stamp skips work already done.
# torch comes first and pinned (torch==2.13.0): pip then takes the CPU wheel this machine keeps on
# disk; unpinned, sentence-transformers would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/../.."
want_dev=${1:-}
files="requirements.txt pyproject.toml"
[ "$want_dev" = dev ] && files="$files requirements-dev.txt"
stamp=".venv/.installed-$(cat $files | sha256sum | cut -c1-16)"
[ -x .venv/bin/python ] || python3 -m venv .venv
if [ ! -f "$stamp" ]; then
  echo "installing Scout into .venv (first time: about 2-3 minutes) ..."
  .venv/bin/pip install -q torch==2.13.0
  reqs="-r requirements.txt"
  [ "$want_dev" = dev ] && reqs="$reqs -r requirements-dev.txt"
  .venv/bin/pip install -q $reqs
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  touch "$stamp"
fi
# The dbt manifest the Dagster definitions load (dbt parse; no database, no download).
if [ ! -f dbt_project/target/manifest.json ] || [ -n "$(find dbt_project -newer dbt_project/target/manifest.json \( -name '*.sql' -o -name '*.yml' \) -print -quit)" ]; then
  (source infra/scripts/env.sh && dagster-dbt project prepare-and-package --file scout_assets/dbt_project.py >/dev/null)
fi

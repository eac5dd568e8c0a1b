# Sourced by the other scripts: the project's virtualenv and the switches that keep every tool offline.
SCOUT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$SCOUT_ROOT/.venv/bin:$PATH"
export DBT_SEND_ANONYMOUS_USAGE_STATS=False DO_NOT_TRACK=1   # dbt would otherwise post usage events
export LITELLM_LOCAL_MODEL_COST_MAP=True                      # litellm would otherwise fetch its cost map
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1                # models come from packages, never the hub
export DAGSTER_HOME="${DAGSTER_HOME:-$SCOUT_ROOT/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp "$SCOUT_ROOT/infra/dagster.embedded.yaml" "$DAGSTER_HOME/dagster.yaml"
export TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 TQDM_DISABLE=1  # quiet model loading

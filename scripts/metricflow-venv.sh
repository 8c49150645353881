#!/usr/bin/env bash
# Creates .venv-metricflow/ with MetricFlow and dbt-duckdb, the reference (test oracle only:
# MetricFlow is BUSL, never a dependency of dropkit) for test-aws/semantic/.
# dbt-core 1.12 pulls a parser that downloads a binary at install time, so 1.11 is pinned.
# Usage: bash scripts/metricflow-venv.sh [VENV_DIR]
set -euo pipefail
VENV="${1:-.venv-metricflow}"
if [ -x "$VENV/bin/mf" ] && [ -x "$VENV/bin/dbt" ]; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  'dbt-metricflow==0.15.0' 'metricflow==0.213.0' 'dbt-semantic-interfaces==0.9.0' \
  'dbt-duckdb==1.11.1' 'dbt-core==1.11.16' 'duckdb==2.0.1'
"$VENV/bin/mf" --version >/dev/null

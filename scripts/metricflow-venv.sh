#!/usr/bin/env bash
# Creates .venv-metricflow/ with MetricFlow and dbt-duckdb, the reference (test oracle only:
# MetricFlow is BUSL, never a dependency of dropkit) for test-aws/semantic/.
# Usage: bash scripts/metricflow-venv.sh [VENV_DIR]
set -euo pipefail
VENV="${1:-.venv-metricflow}"
if [ -x "$VENV/bin/mf" ] && [ -x "$VENV/bin/dbt" ]; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  'dbt-metricflow==0.15.0' 'dbt-duckdb==1.11.1' 'dbt-core==1.11.16'
"$VENV/bin/mf" --version >/dev/null

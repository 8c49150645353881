#!/usr/bin/env bash
# Creates .venv-aws (Python 3) with the pinned tools of requirements-aws.txt, once: a stamp holding
# the requirements' hash skips the install until the file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-aws
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements-aws.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/moto_server" ]; then exit 0; fi
if ! command -v python3 >/dev/null; then
  echo "npm run test:aws needs Python 3 (with venv and pip) on the PATH: install python3 and python3-venv" >&2
  exit 1
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-aws.txt
echo "$want" > "$stamp"

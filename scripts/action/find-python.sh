#!/usr/bin/env bash
# Step 1 of action.yml: is a Python 3.11+ already on PATH? If not, actions/setup-python runs.
set -euo pipefail
if command -v python3 >/dev/null 2>&1 \
  && python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "gate: using $(command -v python3) ($(python3 -c 'import platform; print(platform.python_version())'))"
  echo "needed=false" >>"$GITHUB_OUTPUT"
else
  echo "needed=true" >>"$GITHUB_OUTPUT"
fi

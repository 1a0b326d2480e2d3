#!/usr/bin/env bash
# Step 8 of action.yml: fail the step on FAIL, and on ERROR unless fail-on-error is false.
# An empty result means gate never ran (its install failed): that is an ERROR too.
set -euo pipefail
result="${RESULT:-ERROR}"
case "$result" in
  PASS)
    echo "gate: PASS"
    ;;
  FAIL)
    echo "::error title=gate::verdict FAIL (exit code ${EXIT_CODE:-1})"
    exit 1
    ;;
  *)
    if [ "$FAIL_ON_ERROR" = "false" ]; then
      echo "::warning title=gate::verdict ERROR (exit code ${EXIT_CODE:-none}): gate could not judge; fail-on-error is false"
    else
      echo "::error title=gate::verdict ERROR (exit code ${EXIT_CODE:-none}): gate could not judge"
      exit 1
    fi
    ;;
esac

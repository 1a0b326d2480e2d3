# gate's severity policy (gate/rules/severity.py) written in Rego, for bench/scale_rego.py.
#
# data.policy is gate's policy file as gate reads it (every default filled in); input.findings
# are gate's normalized findings: {id, package, kind, severity, fix_state, not_affected}.
# Covered: not_affected, vulnerabilities.ignore_unfixed with unfixed_states, unknown_severity,
# fail_on, warn_on, for the four severity sections. Not covered (the bench's inputs use none):
# per-source overrides, exceptions, SARIF suppressions, branch protection.
package gate

import rego.v1

sections := {
	"vulnerability": "vulnerabilities",
	"secret": "secrets",
	"misconfiguration": "misconfigurations",
	"code": "code_scanning",
}

severity_rank := {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}

threshold_rank := {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "NONE": 99}

action := {"fail": "fail", "warn": "warn", "ignore": "ignored"}

unfixed := {s | some s in data.policy.vulnerabilities.unfixed_states}

decide(f, t) := "ignored" if {
	f.not_affected
} else := "ignored" if {
	f.kind == "vulnerability"
	t.ignore_unfixed
	f.fix_state in unfixed
} else := action[t.unknown_severity] if {
	f.severity == "UNKNOWN"
} else := "fail" if {
	severity_rank[f.severity] >= threshold_rank[t.fail_on]
} else := "warn" if {
	severity_rank[f.severity] >= threshold_rank[t.warn_on]
} else := "pass"

decisions := [d |
	some f in input.findings
	d := {"id": f.id, "package": f.package, "decision": decide(f, data.policy[sections[f.kind]])}
]

counts[name] := n if {
	some name in {"fail", "warn", "pass", "ignored"}
	n := count([1 | some d in decisions; d.decision == name])
}

result := "FAIL" if counts.fail > 0 else := "PASS"

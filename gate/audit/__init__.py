"""Running the dependency audits gate judges: pip-audit and npm audit (issue 12).

- `gate.audit.runner`: the shared subprocess discipline (hermetic environment, a timeout,
  the tool's last stderr lines, credentials redacted) and the error it raises;
- `gate.audit.pip_audit`: `gate check --python-project`, the real pip-audit;
- `gate.audit.osv`: severities for pip-audit's findings from the same OSV service;
- `gate.audit.npm`: `gate check --npm-project`, the machine's `npm audit --json`;
- `gate.audit.npm_lockfile`: installed versions for npm 7+ findings from the lockfile.

Each run returns a `SourceRun` of its kind, read by the existing readers
(`gate.ingest.pip_audit`, `gate.ingest.npm_audit`); any failure is a `SourceRun` with
status `error`, so the verdict is ERROR, never PASS.
"""

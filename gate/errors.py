"""The one error tree of gate.

Every error a user can cause or meet carries its own user-facing text in
`diagnostics()`. The CLI catches `GateError` only and maps it to an exit code;
any other exception is a bug (exit 3, traceback under `--verbose`).

```
GateError                      exit 3 unless stated
 ├── UsageError                exit 2: a bad command line
 ├── PolicyError               exit 2: the policy file is invalid
 ├── InputError                a report is missing, unreadable, malformed or of the wrong kind
 ├── ScannerError              a scanner (trivy) failed, timed out or wrote no report
 ├── GitHubError               the GitHub API could not be read
 ├── OutputError               an output file could not be written
 ├── SigningError              gate refused to sign, or signing could not be done
 └── VerificationRejected      exit 1: `gate verify` rejected the attestation (names the check)
```
"""

from __future__ import annotations


class GateError(Exception):
    """Base of every error gate reports to a user."""

    exit_code: int = 3

    def diagnostics(self) -> str:
        """The text to show the user: one line, or a few, never a traceback."""
        return str(self)


class UsageError(GateError):
    """The command line asks for something gate cannot do."""

    exit_code = 2


class PolicyError(GateError):
    """The policy file is missing, not YAML, or does not validate."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def diagnostics(self) -> str:
        if len(self.problems) == 1:
            return f"invalid policy {self.path}: {self.problems[0]}"
        lines = [f"invalid policy {self.path}: {len(self.problems)} problems"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InputError(GateError):
    """A report cannot be judged: it names the file and, where it can, the JSON path."""

    def __init__(self, path: str, message: str, pointer: str | None = None) -> None:
        self.path = path
        self.message = message
        self.pointer = pointer
        where = f"{path}: {pointer}" if pointer else path
        super().__init__(f"{where}: {message}")


class ScannerError(GateError):
    """A scanner run failed: it could not start, timed out, crashed or wrote no report."""


class GitHubError(GateError):
    """The GitHub API could not be read (network, auth, rate limit, malformed answer)."""


class OutputError(GateError):
    """An output file could not be written."""


class SigningError(GateError):
    """`--sign` / `gate sign` refused (not a PASS, no confirmed digest, too old) or failed
    (the Sigstore instance, the key, the registry): nothing is written."""


class VerificationRejected(GateError):
    """`gate verify` checked the attestation and it does not hold: exit 1, naming the check
    that failed (`signature`, `identity`, `subject digest`, …)."""

    exit_code = 1

    def __init__(self, check: str, message: str) -> None:
        self.check = check
        super().__init__(f"rejected: {check}: {message}")

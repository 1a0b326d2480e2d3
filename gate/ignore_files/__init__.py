"""Existing ignore files (`--ignore-file`): `.trivyignore`, `.trivyignore.yaml` and grype's
`ignore:` rules, read into entries (`gate.ignore_files.read`) and made exceptions with their
origin under the policy's `exception_rules` (`gate.ignore_files.apply`)."""

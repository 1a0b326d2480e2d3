"""Branch protection: one concept, from the GitHub API to a decision.

The policy's `branch_protection:` section is judged here end to end, in this order:
- `fetch`: read a branch's protection from the GitHub API (`fetch_branch_protection`), with
  `gate.github.GitHubClient`; the responses become one `SourceRun` through `ingest`.
- `ingest`: saved (or fetched) REST API responses → a `Reading` each
  (`BranchProtectionIngestor`, registered in `gate.ingest`); `_raw` holds the raw response
  models and `_read` their reading, both private.
- `effective`: the settings that hold for the branch, the strongest of every reading
  (`Reading`, `Setting`, `Source`, `effective_protection`).
- `rule`: the policy section applied to that effective protection (`BranchProtectionRule`,
  registered in `gate.rules`).

Import from those modules: like `gate.policy`, this package imports nothing, so the ingest
registry can load the ingestor without the policy model the rule needs.
"""

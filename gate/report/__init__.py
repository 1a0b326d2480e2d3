"""Reporters: each reads a `Verdict` and writes bytes, one module per output format.

Public: the reporter interface (`Reporter`, `ReportKind`, `OutputRequest`) and the
dispatcher (`write_reports`, `reporter_for`, in `dispatch`) that iterates over every
`ReportKind`. Renderers: `json`, `sarif` (with `sarif_rules`, `sarif_results`,
`sarif_limits`), `markdown`, `annotations`, and `console` (the command's stdout, written by
`gate.cli`). `json_schema` is the verdict's JSON Schema.

Like `gate.policy`, this package imports nothing itself, so a reporter loads only what it
renders with.
"""

"""Helpers every layer may use, with no knowledge of scanners, policy or verdicts.

- `sanitize`: every string shown to a human (terminal, markdown, workflow commands),
  escaped; the JSON verdict keeps them verbatim.
- `files`: input files read safely (regular files only, a size cap, no blocking) and
  outputs written atomically.
- `strict_json`: JSON read strictly (duplicate keys, nesting, shapes).
- `http_deadline`: one deadline over a whole HTTP exchange.
- `redact`: credentials out of messages before they are shown or recorded.
- `json_fields`: typed reads from decoded JSON or YAML, each failure naming the file and
  the JSON path (the VEX and ignore-file readers).
- `timestamps`: RFC 3339 timestamps as scanners write them (`parse_timestamp`).

Import from those modules: this package imports nothing, so each stays as light as its job.
An import contract keeps this package free of gate's concepts (only `gate.errors`).
"""

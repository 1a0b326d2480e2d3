"""trivy, run by gate itself: hermetic, bounded in time, failing closed.

Import from the modules (this package imports nothing, so the early start stays light):
- `scan`: `scan_image`, the entry point `gate check IMAGE` uses; it adopts an early start.
- `command`: the `trivy image` argv, binary lookup and targets (free of pydantic).
- `early`: trivy started before the CLI is loaded, and its adoption by `scan`.
- `process`: the child process (argv, timeout, process group, stderr tail).
- `db`: which vulnerability DB trivy used (`TrivyVersion`, read from trivy's cache).
- `report`: the checks a trivy report must pass before it is ingested.
"""

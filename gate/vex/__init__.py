"""VEX in and out: OpenVEX, CycloneDX VEX and CSAF VEX documents read into statements
(`gate.vex.read`), statements turned into exceptions for the ledger (`gate.vex.apply`), and
gate's own decisions written as OpenVEX v0.2.0 (`gate.vex.write`)."""

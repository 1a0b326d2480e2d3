"""Image identity: references, gate's own registry client, and what trivy is asked to scan.

- `reference`: parse `registry/repository[:tag][@digest]`; plain HTTP or HTTPS;
- `credentials`: the user's registry credentials, as trivy reads them;
- `realm`: which token realms gate calls, and what it sends where;
- `client`: `RegistryClient`, one deadline, bodies capped at 4 MiB, streaming;
- `documents`: strict reading of manifests and indexes, exact platform matching;
- `resolve`: tag → index → the one platform manifest trivy then scans by digest;
- `binding`: the digest a verdict names, checked against trivy's report;
- `archive`: what an image archive (`--input`) records about its manifests;
- `referrers`: attach a Sigstore bundle as an OCI 1.1 referrer (or by the tag fallback), and
  find the bundles attached to an image.
"""

from __future__ import annotations

from gate.oci.errors import RegistryError
from gate.oci.reference import (
    DOCKER_HUB,
    ImageRef,
    api_base,
    is_plain_http,
    parse_reference,
)

__all__ = [
    "DOCKER_HUB",
    "ImageRef",
    "RegistryError",
    "api_base",
    "is_plain_http",
    "parse_reference",
]

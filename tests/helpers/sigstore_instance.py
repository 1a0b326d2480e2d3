"""A Sigstore test instance on 127.0.0.1, in memory, for the keyless tests: enough of each
service that sigstore-python's real signer and real verifier accept what it issues.

    with SigstoreInstance() as s:
        s.write_trust_config(path)     # a ClientTrustConfig JSON naming this instance
        s.write_trusted_root(path)
        token = s.token()              # a GitHub-Actions-style OIDC token, audience sigstore

One HTTP server:

- `POST /api/v2/signingCert` (Fulcio): checks the bearer token's signature (this instance's
  issuer key) and audience and the CSR's proof of possession, then issues a short-lived
  code-signing certificate for the token's `job_workflow_ref`, with the Fulcio extensions a
  GitHub identity carries and an embedded SCT from this instance's CT key;
- `POST /api/v1/log/entries` (Rekor v1, `dsse/0.0.1`): appends the entry to an RFC 6962 Merkle
  tree and answers with a real inclusion proof, a checkpoint signed by the log key and a
  signed entry timestamp;
- `GET /oidc?audience=…` (GitHub's ID-token endpoint, what `ACTIONS_ID_TOKEN_REQUEST_URL`
  names): a token for that audience.

`fault` breaks one service: `<svc>-down` (the connection is closed unanswered), `<svc>-slow`
(`slow_seconds` before answering), `<svc>-500`, `<svc>-malformed` (200 with a body that is not
the service's answer), for svc in fulcio, rekor, oidc; `bad-proof` (Rekor's inclusion proof
names a wrong sibling hash).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER = "https://token.actions.githubusercontent.com"
FULCIO_OID = "1.3.6.1.4.1.57264.1."
SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
REPO = "acme/app"
WORKFLOW = ".github/workflows/gate.yml"
REF = "refs/heads/main"
IDENTITY = f"https://github.com/{REPO}/{WORKFLOW}@{REF}"


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a fault test, or a closed kept-alive connection) is no test
    failure: no traceback on stderr, which in-process CLI tests read."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rfc3339(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_utf8(text: str) -> bytes:
    raw = text.encode()
    return b"\x0c" + _der_length(len(raw)) + raw


class MerkleLog:
    """RFC 6962 hashing over the canonical entry bodies, with audit paths."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []

    @staticmethod
    def leaf(data: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + data).digest()

    @staticmethod
    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    @classmethod
    def root(cls, hashes_: list[bytes]) -> bytes:
        if len(hashes_) == 1:
            return hashes_[0]
        split = 1 << ((len(hashes_) - 1).bit_length() - 1)
        return cls.node(cls.root(hashes_[:split]), cls.root(hashes_[split:]))

    @classmethod
    def audit_path(cls, index: int, hashes_: list[bytes]) -> list[bytes]:
        if len(hashes_) == 1:
            return []
        split = 1 << ((len(hashes_) - 1).bit_length() - 1)
        if index < split:
            return cls.audit_path(index, hashes_[:split]) + [cls.root(hashes_[split:])]
        return cls.audit_path(index - split, hashes_[split:]) + [cls.root(hashes_[:split])]


class SigstoreInstance:
    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.valid_from = now - dt.timedelta(days=1)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.log_key = ec.generate_private_key(ec.SECP256R1())
        self.issuer_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_id = hashlib.sha256(spki(self.ct_key)).digest()
        self.log_id = hashlib.sha256(spki(self.log_key)).digest()
        self.log = MerkleLog()
        self.lock = threading.Lock()
        self.fault: str | None = None
        self.slow_seconds = 5.0
        self.requests: list[str] = []
        self._server: _QuietServer | None = None
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gate-test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "gate-test-fulcio"),
            ]
        )
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.valid_from)
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SigstoreInstance:
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # -- trust material ------------------------------------------------------------------

    def _key(self, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
        return {
            "rawBytes": b64(spki(key)),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": rfc3339(self.valid_from)},
        }

    def trusted_root(self) -> dict[str, Any]:
        ca = self.ca_cert.public_bytes(serialization.Encoding.DER)
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": self.url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": self._key(self.log_key),
                    "logId": {"keyId": b64(self.log_id)},
                }
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "gate-test", "commonName": "gate-test-fulcio"},
                    "uri": self.url,
                    "certChain": {"certificates": [{"rawBytes": b64(ca)}]},
                    "validFor": {"start": rfc3339(self.valid_from)},
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": self.url,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": self._key(self.ct_key),
                    "logId": {"keyId": b64(self.ct_id)},
                }
            ],
            "timestampAuthorities": [],
        }

    def trust_config(self) -> dict[str, Any]:
        def service() -> dict[str, Any]:
            return {
                "url": self.url,
                "majorApiVersion": 1,
                "validFor": {"start": rfc3339(self.valid_from)},
                "operator": "gate-test",
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service()],
                "oidcUrls": [],
                "rekorTlogUrls": [service()],
                "tsaUrls": [],
                "rekorTlogConfig": {"selector": "ANY"},
                "tsaConfig": {"selector": "ANY"},
            },
        }

    def write_trust_config(self, path: Path) -> Path:
        path.write_text(json.dumps(self.trust_config()))
        return path

    def write_trusted_root(self, path: Path) -> Path:
        path.write_text(json.dumps(self.trusted_root()))
        return path

    # -- the OIDC issuer -----------------------------------------------------------------

    def token(self, audience: str = "sigstore", repo: str = REPO) -> str:
        now = int(time.time())
        workflow_ref = f"{repo}/{WORKFLOW}@{REF}"
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "sub": f"repo:{repo}:ref:{REF}",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "repository": repo,
            "ref": REF,
            "sha": "1" * 40,
            "event_name": "push",
            "workflow": "gate",
            "workflow_ref": workflow_ref,
            "workflow_sha": "1" * 40,
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": "1" * 40,
            "runner_environment": "github-hosted",
            "run_id": "7",
            "run_attempt": "1",
        }
        return jwt.encode(claims, self.issuer_key, algorithm="ES256")

    # -- Fulcio --------------------------------------------------------------------------

    def certificate(self, csr_pem: bytes, token: str) -> list[str]:
        claims = jwt.decode(
            token, self.issuer_key.public_key(), algorithms=["ES256"], audience="sigstore"
        )
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not hold")
        gh = "https://github.com/"
        raw = {
            "1": claims["iss"],
            "2": claims["event_name"],
            "3": claims["sha"],
            "4": claims["workflow"],
            "5": claims["repository"],
            "6": claims["ref"],
        }
        der = {
            "8": claims["iss"],
            "9": gh + claims["job_workflow_ref"],
            "12": gh + claims["repository"],
            "13": claims["sha"],
            "14": claims["ref"],
            "18": gh + claims["workflow_ref"],
            "20": claims["event_name"],
        }
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(seconds=5))
            .not_valid_after(now + dt.timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(gh + claims["job_workflow_ref"])]
                ),
                critical=True,
            )
        )
        for suffix, value in raw.items():
            oid = x509.ObjectIdentifier(FULCIO_OID + suffix)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(oid, value.encode()), critical=False
            )
        for suffix, value in der.items():
            oid = x509.ObjectIdentifier(FULCIO_OID + suffix)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(oid, der_utf8(value)), critical=False
            )
        # the CT log signs the precertificate: the same TBS without the SCT extension
        tbs = builder.sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        millis = int(time.time() * 1000)
        signed = (
            struct.pack("!BBQH", 0, 0, millis, 1)
            + hashlib.sha256(spki(self.ca_key)).digest()
            + len(tbs).to_bytes(3, "big")
            + tbs
            + b"\x00\x00"
        )
        sig = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            b"\x00"
            + self.ct_id
            + struct.pack("!QH", millis, 0)
            + struct.pack("!BBH", 4, 3, len(sig))
            + sig
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        octets = b"\x04" + _der_length(len(sct_list)) + sct_list
        cert = builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST, octets), critical=False
        ).sign(self.ca_key, hashes.SHA256())
        assert cert.tbs_precertificate_bytes == tbs
        return [c.public_bytes(serialization.Encoding.PEM).decode() for c in (cert, self.ca_cert)]

    # -- Rekor v1 ------------------------------------------------------------------------

    def entry(self, proposed: dict[str, Any]) -> dict[str, Any]:
        if (proposed.get("kind"), proposed.get("apiVersion")) != ("dsse", "0.0.1"):
            raise ValueError("this log takes dsse/0.0.1 entries")
        content = proposed["spec"]["proposedContent"]
        envelope = json.loads(content["envelope"])
        payload = base64.b64decode(envelope["payload"])
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(content["envelope"].encode()).hexdigest(),
                },
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
                "signatures": [
                    {"signature": s["sig"], "verifier": content["verifiers"][0]}
                    for s in envelope["signatures"]
                ],
            },
        }
        canonical = rfc8785.dumps(body)
        with self.lock:
            self.log.leaves.append(canonical)
            index = len(self.log.leaves) - 1
            leaf_hashes = [MerkleLog.leaf(x) for x in self.log.leaves]
        root = MerkleLog.root(leaf_hashes)
        path = MerkleLog.audit_path(index, leaf_hashes)
        if self.fault == "bad-proof":
            path = [hashlib.sha256(b"not a sibling").digest(), *path[1:]] or [
                hashlib.sha256(b"not a sibling").digest()
            ]
        integrated = int(time.time())
        origin = self.url.removeprefix("http://")
        note = f"{origin} - 1\n{len(leaf_hashes)}\n{b64(root)}\n"
        note_sig = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 {origin} {b64(self.log_id[:4] + note_sig)}\n"
        set_payload = rfc8785.dumps(
            {
                "body": b64(canonical),
                "integratedTime": integrated,
                "logID": self.log_id.hex(),
                "logIndex": index,
            }
        )
        return {
            hashlib.sha256(canonical).hexdigest(): {
                "body": b64(canonical),
                "integratedTime": integrated,
                "logID": self.log_id.hex(),
                "logIndex": index,
                "verification": {
                    "inclusionProof": {
                        "logIndex": index,
                        "rootHash": root.hex(),
                        "treeSize": len(leaf_hashes),
                        "hashes": [h.hex() for h in path],
                        "checkpoint": checkpoint,
                    },
                    "signedEntryTimestamp": b64(
                        self.log_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))
                    ),
                },
            }
        }


def _handler(inst: SigstoreInstance) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def reply(self, code: int, doc: Any) -> None:
            data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def faulted(self, service: str) -> bool:
            """Apply a fault for `service`; True when the request is answered (or dropped)."""
            fault = inst.fault or ""
            if not fault.startswith(service + "-"):
                return False
            kind = fault.removeprefix(service + "-")
            if kind == "slow":
                time.sleep(inst.slow_seconds)
                return False
            if kind == "down":
                self.close_connection = True
                self.connection.shutdown(2)
                return True
            if kind == "500":
                self.reply(500, {"code": 500, "message": "internal error"})
                return True
            if kind == "malformed":
                self.reply(200 if service == "oidc" else 201, b'{"unexpected": [1, 2')
                return True
            return False

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            inst.requests.append(f"GET {url.path}")
            if url.path == "/oidc" and self.headers.get("Authorization", "").lower().startswith(
                "bearer "
            ):
                if self.faulted("oidc"):
                    return
                audience = parse_qs(url.query).get("audience", ["sigstore"])[0]
                return self.reply(200, {"value": inst.token(audience)})
            self.reply(404, {"message": "not found"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inst.requests.append(f"POST {self.path}")
            try:
                if self.path == "/api/v2/signingCert":
                    if self.faulted("fulcio"):
                        return
                    token = self.headers["Authorization"].split(" ", 1)[1]
                    csr = base64.b64decode(json.loads(body)["certificateSigningRequest"])
                    chain = inst.certificate(csr, token)
                    return self.reply(
                        200, {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
                    )
                if self.path == "/api/v1/log/entries":
                    if self.faulted("rekor"):
                        return
                    return self.reply(201, inst.entry(json.loads(body)))
            except Exception as e:
                return self.reply(400, {"code": 400, "message": f"{type(e).__name__}: {e}"})
            self.reply(404, {"message": "not found"})

    return Handler

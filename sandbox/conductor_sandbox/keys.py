"""Keys, secrets, JWT checks and TLS material, all with joserfc and cryptography."""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OctKey, OKPKey
from joserfc.registry import HeaderParameter

# c1-auth.md names the algorithm EdDSA; RFC 9864 deprecates that name and joserfc warns.
warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")

SIGNING_ALGORITHMS = ["EdDSA", "Ed25519", "ES256"]
# A client assertion may carry its nonce in the protected header (ConductorOne's Go SDK, cone and the
# Terraform provider sign with go-jose's nonce source) instead of a claim (the Python SDK): c1-auth.md
# accepts both. joserfc refuses header parameters it does not know, so the assertion check names it.
ASSERTION_REGISTRY = jws.JWSRegistry(header_registry={"nonce": HeaderParameter("Nonce", "str")},
                                     algorithms=SIGNING_ALGORITHMS)


class Refused(Exception):
    """A check failed; ``error`` is the OAuth error code, the message the description."""

    def __init__(self, error, description, status=400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_c1_secret():
    """(secret, public JWK): secret-token:conductorone.com:v1:<base64url of the private JWK>."""
    key = OKPKey.generate_key("Ed25519")
    private = key.as_dict(private=True)
    # Compact JSON, as the service marshals it: 129 bytes, so the base64url text needs no padding and the
    # Python SDK's token source (urlsafe_b64decode without re-padding) can read it.
    secret = "secret-token:conductorone.com:v1:" + b64url(json.dumps(
        {k: private[k] for k in ("kty", "crv", "x", "d")}, separators=(",", ":")).encode())
    return secret, key.as_dict(private=False)


def public_jwk_of_secret(secret):
    """The public JWK inside a posted v1 secret, or None if it is not one."""
    fields = secret.split(":") if isinstance(secret, str) else []
    if len(fields) != 4 or fields[:3] != ["secret-token", "conductorone.com", "v1"]:
        return None
    try:
        jwk = json.loads(b64url_decode(fields[3]))
        key = OKPKey.import_key(jwk)
        return key.as_dict(private=False)
    except (ValueError, JoseError, TypeError):
        return None


def verify_jws(token, key_dict, algorithms=SIGNING_ALGORITHMS, registry=None):
    """Verify signature; return (header, claims) or raise Refused."""
    try:
        key = OKPKey.import_key(key_dict) if key_dict.get("kty") == "OKP" else ECKey.import_key(key_dict)
        decoded = jwt.decode(token, key, algorithms=algorithms, registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused("invalid_client", "signature check failed: %s" % type(exc).__name__, 401)
    return decoded.header, decoded.claims


def unverified_header(token):
    try:
        return jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise Refused("invalid_request", "not a compact JWS")


def thumbprint(jwk):
    key = OKPKey.import_key(jwk) if jwk.get("kty") == "OKP" else ECKey.import_key(jwk)
    return key.thumbprint()


def access_token_hash(token):
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


class HmacSigner(object):
    """Signs the sandbox's own JWTs (Orkes tokens) with a per-process HMAC key."""

    def __init__(self):
        self.key = OctKey.generate_key(256)

    def sign(self, claims):
        return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, self.key)

    def verify(self, token):
        try:
            return jwt.decode(token, self.key, algorithms=["HS256"]).claims
        except (JoseError, ValueError, TypeError):
            return None


GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SHAPES = ("plain", "github", "gitlab")


def _github_claims(values):
    """The claims GitHub Actions puts in a job's OIDC token (all values strings, as GitHub sends them)."""
    repository = str(values.get("repository") or "acme/infra")
    owner = repository.split("/", 1)[0]
    ref = str(values.get("ref") or "refs/heads/main")
    ref_type = "tag" if ref.startswith("refs/tags/") else "branch"
    event = str(values.get("event_name") or "push")
    environment = values.get("environment")
    workflow_file = str(values.get("workflow_file") or "deploy.yml")
    if environment:
        sub = "repo:%s:environment:%s" % (repository, environment)
    elif event == "pull_request":
        sub = "repo:%s:pull_request" % repository
    else:
        sub = "repo:%s:ref:%s" % (repository, ref)
    workflow_ref = "%s/.github/workflows/%s@%s" % (repository, workflow_file, ref)
    claims = {"sub": sub, "repository": repository, "repository_owner": owner,
              "repository_id": str(values.get("repository_id") or "74"),
              "repository_owner_id": str(values.get("repository_owner_id") or "65"),
              "repository_visibility": "private", "ref": ref, "ref_type": ref_type, "ref_protected": "true"
              if ref.endswith("/main") else "false", "sha": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4",
              "workflow": str(values.get("workflow") or "Deploy"), "workflow_ref": workflow_ref,
              "workflow_sha": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4", "job_workflow_ref": workflow_ref,
              "job_workflow_sha": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4", "event_name": event,
              "head_ref": "", "base_ref": "", "actor": str(values.get("actor") or "octocat"), "actor_id": "12",
              "run_id": "4242", "run_number": "7", "run_attempt": "1", "runner_environment": "github-hosted"}
    if environment:
        claims["environment"] = str(environment)
    return claims


def _gitlab_claims(values):
    """The claims GitLab CI puts in a job's ID token (ids and flags as strings, as GitLab sends them)."""
    project = str(values.get("project_path") or "acme/infra")
    namespace = project.rsplit("/", 1)[0] if "/" in project else project
    ref = str(values.get("ref") or "main")
    ref_type = str(values.get("ref_type") or "branch")
    claims = {"sub": "project_path:%s:ref_type:%s:ref:%s" % (project, ref_type, ref),
              "namespace_id": "72", "namespace_path": namespace, "project_id": str(values.get("project_id") or "20"),
              "project_path": project, "user_id": "1", "user_login": str(values.get("user_login") or "sandbox-user"),
              "user_email": "sandbox-user@example.com", "user_access_level": "developer",
              "pipeline_id": "574", "pipeline_source": str(values.get("pipeline_source") or "push"),
              "job_id": "302", "ref": ref, "ref_type": ref_type,
              "ref_path": ("refs/tags/" if ref_type == "tag" else "refs/heads/") + ref,
              "ref_protected": str(values.get("ref_protected", ref == "main")).lower(),
              "runner_id": "1", "runner_environment": "gitlab-hosted", "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
              "project_visibility": "private",
              "ci_config_ref_uri": "gitlab.com/%s//.gitlab-ci.yml@refs/heads/%s" % (project, ref),
              "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc"}
    environment = values.get("environment")
    if environment:
        claims.update(environment=str(environment), environment_protected="false", deployment_tier="production",
                      environment_action="start")
    return claims


def workload_claims(values):
    """The claims of a minted token: a platform's shape, then ``sub``, then any ``claims`` overrides.

    Raises ValueError with one sentence when the inputs are wrong.
    """
    shape = values.get("shape") or "plain"
    if shape not in SHAPES:
        raise ValueError("shape must be one of %s, not %r" % (", ".join(SHAPES), shape))
    extra = values.get("claims") or {}
    if not isinstance(extra, dict):
        raise ValueError("claims must be an object of claim names to values")
    claims = {"github": _github_claims, "gitlab": _gitlab_claims}.get(shape, lambda _: {})(values)
    if values.get("sub") is not None or shape == "plain":
        claims["sub"] = values.get("sub", "workload")
    claims.update(extra)
    return claims


class OidcIssuer(object):
    """A test OIDC issuer: mints workload JWTs that C1 trusts can accept.

    Its one key also stands in for the keys of any other issuer a token names (``iss``), so a
    provider registered for GitHub's issuer URL accepts a GitHub-shaped token minted here.
    """

    def __init__(self):
        self.key = OKPKey.generate_key("Ed25519")
        self.kid = "sandbox-oidc-1"

    def jwks(self):
        return {"keys": [dict(self.key.as_dict(private=False), kid=self.kid, use="sig", alg="EdDSA")]}

    def mint(self, issuer, subject, audience, now, ttl, claims=None):
        """A signed token: the registered claims, then ``claims`` (the workload's, which may override them)."""
        body = {"iss": issuer, "sub": subject, "aud": audience, "iat": int(now), "nbf": int(now),
                "exp": int(now + ttl), "jti": b64url(os.urandom(12))}
        body.update(claims or {})
        if body.get("sub") is None:
            del body["sub"]
        return jwt.encode({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"}, body, self.key, algorithms=["EdDSA"])

    def verify(self, token):
        try:
            return jwt.decode(token, self.key, algorithms=["EdDSA"]).claims
        except (JoseError, ValueError, TypeError):
            raise Refused("invalid_grant", "the subject token's signature does not verify against the issuer")


def unverified_claims(token):
    """The claims of a compact JWS without checking its signature (TestToken decodes best-effort)."""
    try:
        payload = jws.extract_compact(token.encode("ascii")).payload
        claims = json.loads(payload)
    except (JoseError, ValueError, UnicodeError, AttributeError):
        return None
    return claims if isinstance(claims, dict) else None


def make_tls(directory, host="127.0.0.1"):
    """A CA and a server certificate for 127.0.0.1 and localhost; return (cert, key, ca) paths."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def write(name, data):
        path = os.path.join(directory, name)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conductor.principals sandbox CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host not in ("127.0.0.1", "localhost"):
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
              .issuer_name(ca_name).public_key(server_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.SubjectAlternativeName(names), critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_path = write("ca.pem", ca.public_bytes(pem))
    cert_path = write("server.pem", server.public_bytes(pem))
    key_path = write("server-key.pem", server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path, ca_path

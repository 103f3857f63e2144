"""Writes the JWK fixtures (RFC 7517) of the test keys next to their PEMs:
rsa.jwk.json (kid "a", from rsa_private.pem), other_rsa.jwk.json (kid "b",
from other_rsa_private.pem) and ec.jwk.json (kid "ec", from ec_private.pem).
Run once with `python3 tests/keys/make_jwks.py` (needs the `cryptography`
package); the files are committed, so the tests need no Python."""

import base64
import json
import pathlib

from cryptography.hazmat.primitives import serialization

HERE = pathlib.Path(__file__).parent


def b64(n: int, length: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(length, "big")).rstrip(b"=").decode()


def public(pem: str):
    key = serialization.load_pem_private_key((HERE / pem).read_bytes(), password=None)
    return key.public_key().public_numbers()


def rsa(pem: str, kid: str) -> dict:
    n = public(pem)
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(n.n, (n.n.bit_length() + 7) // 8), "e": b64(n.e, (n.e.bit_length() + 7) // 8)}


def ec(pem: str, kid: str) -> dict:
    n = public(pem)
    return {"kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
            "x": b64(n.x, 32), "y": b64(n.y, 32)}


for name, jwk in [("rsa.jwk.json", rsa("rsa_private.pem", "a")),
                  ("other_rsa.jwk.json", rsa("other_rsa_private.pem", "b")),
                  ("ec.jwk.json", ec("ec_private.pem", "ec"))]:
    (HERE / name).write_text(json.dumps(jwk, indent=2) + "\n")

"""Checks a TokenServer access token the way an API should (docs/protecting-your-api.md).

Usage: python3 verify_token.py ISSUER AUDIENCE TOKEN   (needs PyJWT >= 2.4 with cryptography;
Debian: apt-get install python3-jwt). Prints the token's sub and role, or exits 1 with the reason.
"""
import json
import sys
import urllib.request

import jwt  # PyJWT


def verify(issuer: str, audience: str, token: str) -> dict:
    # Discovery (RFC 8414) names the key set; PyJWKClient fetches and caches it, picking the key by kid.
    with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10) as response:
        config = json.load(response)
    key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(token)
    # Only the algorithms TokenServer signs with: never "none", never HS256 with the public key (RFC 8725 §3.1).
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256"],
        issuer=issuer,
        audience=audience,
        options={"require": ["exp", "iss", "aud", "sub"]},
    )


if __name__ == "__main__":
    try:
        claims = verify(sys.argv[1], sys.argv[2], sys.argv[3])
    except jwt.PyJWTError as error:
        print(f"rejected: {error}", file=sys.stderr)
        sys.exit(1)
    print(claims["sub"], claims["role"])

// Checks a TokenServer access token the way an API should (docs/protecting-your-api.md).
// Usage: node verify-token.mjs ISSUER AUDIENCE TOKEN   (npm install jose). Prints sub and role,
// or exits 1 with the reason.
import { createRemoteJWKSet, jwtVerify } from "jose";

export async function verify(issuer, audience, token) {
  // Discovery (RFC 8414) names the key set; createRemoteJWKSet caches it and picks the key by kid.
  const config = await (await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration")).json();
  const keys = createRemoteJWKSet(new URL(config.jwks_uri));
  // Only the algorithms TokenServer signs with (RFC 8725 §3.1).
  const { payload } = await jwtVerify(token, keys, { issuer, audience, algorithms: ["RS256", "ES256"], requiredClaims: ["exp", "sub"] });
  return payload;
}

const [issuer, audience, token] = process.argv.slice(2);
try {
  const claims = await verify(issuer, audience, token);
  console.log(claims.sub, claims.role);
} catch (error) {
  console.error(`rejected: ${error.code ?? error.message}`);
  process.exit(1);
}

// A relying party built on openid-client (an OpenID Certified library), used unchanged: discovery,
// the authorization URL with PKCE S256, state and nonce, the code exchange with ID-token validation
// (signature against the JWKS, iss, aud, nonce, and the RFC 9207 iss response parameter),
// userinfo, and a refresh. Run by tests/TokenServer.Tests/Oidc/NodeRelyingPartyTests.cs:
//
//   node rp.mjs <issuer> <client_id> <client_secret> <redirect_uri>
//
// It writes one JSON line {"authorization_url": ...}, reads the URL the browser was sent back to
// (one line on stdin), then writes one JSON line with what it learned.
import * as readline from 'node:readline';
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, redirectUri] = process.argv.slice(2);

// The test server listens on plain HTTP on loopback; nothing else is relaxed.
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
  execute: [client.allowInsecureRequests],
});
// Verify the ID token's JWS signature against the server's JWKS too (OpenID Connect Core 1.0 §3.1.3.7).
client.enableNonRepudiationChecks(config);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
console.log(JSON.stringify({ authorization_url: authorizationUrl.href }));

const lines = readline.createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once('line', resolve));
lines.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);

console.log(JSON.stringify({
  issuer: config.serverMetadata().issuer,
  id_token_claims: claims,
  userinfo,
  token_type: tokens.token_type,
  scope: tokens.scope,
  refreshed: {
    access_token_changed: refreshed.access_token !== tokens.access_token,
    refresh_token_changed: refreshed.refresh_token !== tokens.refresh_token,
    // OpenID Connect Core 1.0 §12.2: a refreshed ID token keeps iss, sub and aud.
    id_token_sub: refreshed.id_token ? refreshed.claims().sub : null,
  },
}));

// An upstream OpenID provider of another make than TokenServer: panva's oidc-provider (OpenID
// Certified), run by tests/TokenServer.Tests/Federation/NodeUpstreamTests.cs as the upstream of a
// federated sign-in. One confidential client (the downstream TokenServer's callback), one account
// with a verified email, and ID tokens that carry `acr` and `amr` as a real institution's would.
//
// Usage: node op.mjs <port> <client_id> <client_secret> <redirect_uri> <email> <acr> <amr,amr,...>
// Writes one JSON line ({"issuer": ...}) once it listens; runs until killed.
//
// The login and consent prompts complete by themselves for the one account (docs/decisions.md,
// "Upstream identity providers"): what is under test is how TokenServer takes this provider's
// answer, not a login form here.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri, email, acr, amr] = process.argv.slice(2);
if (!amr) {
  process.stderr.write('usage: node op.mjs <port> <client_id> <client_secret> <redirect_uri> <email> <acr> <amr,...>\n');
  process.exit(2);
}

const issuer = `http://localhost:${port}`;
const accountId = 'node-person-1';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // ASP.NET Core's OpenID Connect handler sends its secret in the form body.
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'op-node', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [clientSecret] },
  acrValues: [acr],
  // acr and amr with every openid sign-in: TokenServer's handler sends no acr_values or claims
  // parameter, without which oidc-provider would leave them out.
  claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
  // TokenServer reads the person from the ID token alone (it does not call userinfo).
  conformIdTokenClaims: false,
  findAccount: (ctx, sub) => (sub !== accountId ? undefined : {
    accountId,
    claims: () => ({ sub: accountId, email, email_verified: true, name: 'Ada Node' }),
  }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
});

async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId, acr, amr: amr.split(',') } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }

  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interact(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(String(error));
    });
  } else {
    handle(req, res);
  }
// No host: the issuer's "localhost" may resolve to ::1 or to 127.0.0.1 for the downstream.
}).listen(Number(port), () => {
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

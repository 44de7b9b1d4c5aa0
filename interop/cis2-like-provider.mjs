// A CIS2-like OpenID Provider built on node's oidc-provider (OpenID Certified).
//
// cis2's interop tests and benchmark run cis2.Client against it, so that the
// client is proven against a provider nobody on this project wrote. It is
// configured the way CIS2 behaves (docs/interop.md lists each choice):
//   - the issuer carries CIS2's Healthcare realm path and an explicit port;
//   - endpoints at CIS2's paths (/authorize, /access_token, /userinfo,
//     /connect/jwk_uri, /connect/endSession);
//   - private_key_jwt with RS512 from an inline client JWKS;
//   - RS256 id_tokens, refresh tokens, NRBAC-shaped UserInfo claims;
//   - back-channel logout; PKCE S256 required;
//   - a headless interaction that signs in the login_hint account.
//
// Usage: node cis2-like-provider.mjs PORT CONFIG_JSON
//   PORT 0 picks a free loopback port. CONFIG_JSON is
//   {"clients": [oidc-provider client metadata], "accounts": {uid: claims}}.
// Once listening it prints one line on stdout:
//   {"ready": true, "port": N, "issuer": "..."}

import { randomBytes } from 'node:crypto';
import http from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const REALM_PATH = '/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare';
const INTERACTION_PATH = `${REALM_PATH}/interaction/`;

const [portArgument, configArgument] = process.argv.slice(2);
if (portArgument === undefined || configArgument === undefined) {
  process.stderr.write('usage: node cis2-like-provider.mjs PORT CONFIG_JSON\n');
  process.exit(2);
}
const settings = JSON.parse(configArgument);
const accounts = settings.accounts ?? {};

// The server exists before the provider so that port 0 can be resolved
// first: the issuer must hold the real port, written out explicitly.
let provider;
const server = http.createServer((req, res) => route(req, res));
server.listen(Number(portArgument), '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${REALM_PATH}`;
  provider = new Provider(issuer, await configuration());
  provider.on('server_error', (_ctx, error) => {
    process.stderr.write(`server_error: ${error.message}\n`);
  });
  provider.on('backchannel.error', (_ctx, error) => {
    process.stderr.write(`backchannel logout failed: ${error.message}\n`);
  });
  process.stdout.write(`${JSON.stringify({ ready: true, port, issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));

// Mounted under the realm path with node's http server, the way
// oidc-provider documents mounting: originalUrl keeps the full path so the
// provider writes every published URL with the prefix and the port.
function route(req, res) {
  if (provider === undefined) {
    res.statusCode = 503;
    res.end();
    return;
  }
  if (req.url.startsWith(INTERACTION_PATH)) {
    signInLoginHint(req, res).catch((error) => fail(res, error));
    return;
  }
  if (req.url === REALM_PATH || req.url.startsWith(`${REALM_PATH}/`)
      || req.url.startsWith(`${REALM_PATH}?`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(REALM_PATH.length) || '/';
    provider.callback()(req, res);
    return;
  }
  res.statusCode = 404;
  res.end();
}

// The headless interaction: sign in the account named by login_hint, with
// the acr it asked for, and grant the requested scopes (CIS2 has no consent
// screen), in one step so the browser goes straight back to /authorize.
async function signInLoginHint(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params } = details;
  const accountId = params.login_hint;
  if (typeof accountId !== 'string' || !(accountId in accounts)) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'login_hint names no known account',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  const acr = typeof params.acr_values === 'string'
    ? params.acr_values.split(' ')[0] : 'AAL3_ANY';
  await provider.interactionFinished(req, res, {
    login: { accountId, acr, amr: ['N3_SMARTCARD'] },
    consent: { grantId },
  });
}

async function configuration() {
  return {
    clients: settings.clients ?? [],
    jwks: { keys: [await signingJwk()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    routes: {
      authorization: '/authorize',
      token: '/access_token',
      userinfo: '/userinfo',
      jwks: '/connect/jwk_uri',
      end_session: '/connect/endSession',
      revocation: '/token/revoke',
      introspection: '/introspect',
    },
    scopes: ['openid', 'offline_access', 'profile', 'email',
      'nationalrbacaccess', 'associatedorgs', 'nhsperson', 'selectedrole'],
    claims: {
      openid: ['sub', 'amr', 'id_assurance_level', 'authentication_assurance_level'],
      profile: ['uid', 'name', 'given_name', 'family_name'],
      email: ['email'],
      nhsperson: ['nhsid_useruid', 'idassurancelevel', 'display_name'],
      nationalrbacaccess: ['nhsid_nrbac_roles'],
      associatedorgs: ['nhsid_user_orgs'],
      selectedrole: ['selected_roleid'],
    },
    acrValues: ['AAL3_ANY', 'AAL2_OR_AAL3_ANY', 'AAL2_ANY', 'AAL1_USERPASS'],
    findAccount,
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: () => true },
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'RS512'],
      idTokenSigningAlgValues: ['RS256'],
    },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      revocation: { enabled: true },
    },
    ttl: {
      AccessToken: 3599,
      AuthorizationCode: 60,
      IdToken: 300,
      RefreshToken: 43199,
      Interaction: 300,
      Session: 3600,
      Grant: 3600,
    },
    renderError,
    // oidc-provider refuses to call special-use addresses such as loopback
    // (SSRF protection); here the relying party's back-channel logout URI
    // is on loopback by design, so its own dispatcher is left out.
    fetch: (url, options) => {
      const unguarded = { ...options };
      delete unguarded.dispatcher;
      return globalThis.fetch(url, unguarded);
    },
  };
}

async function signingJwk() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'RS256', use: 'sig', kid: randomBytes(12).toString('base64') };
}

async function findAccount(_ctx, sub) {
  const claims = accounts[sub];
  if (claims === undefined) {
    return undefined;
  }
  return { accountId: sub, claims: async () => ({ ...claims, sub }) };
}

// The logout confirmation is a bare form, so a test can post it back
// without a browser; CIS2 then sends the back-channel logout token.
async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><body>${form}</body></html>`;
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = '<!DOCTYPE html><html><body>signed out</body></html>';
}

async function renderError(ctx, out) {
  ctx.type = 'json';
  ctx.body = { error: out.error, error_description: out.error_description };
}

function fail(res, error) {
  process.stderr.write(`interaction failed: ${error.message}\n`);
  if (!res.headersSent) {
    res.statusCode = 500;
    res.end();
  }
}

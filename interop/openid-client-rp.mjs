// node's openid-client (OpenID Certified relying party) against a CIS2-like
// provider, for cis2's interop tests.
//
// Usage: node openid-client-rp.mjs CONFIG_JSON
//   CONFIG_JSON = {"issuer", "client_id", "private_key_pem", "kid", "alg",
//                  "redirect_uri", "login_hint", "acr_values", "scope", "mode"}
//
// It discovers the provider, builds the authorization URL (PKCE S256, nonce,
// state), GETs it without following the redirect (the provider signs the
// login_hint in headlessly), redeems the code with private_key_jwt, validates
// the ID token openid-client's own strict way (signature included, through
// enableNonRepudiationChecks), refreshes and calls UserInfo. It prints one
// JSON document on stdout: {"ok": true, ...} or, when the provider refuses,
// {"ok": false, "status", "error", "error_description", "body"}.
//
// "mode" makes one deliberate assertion mistake:
//   good        aud set to the token endpoint, as CIS2 requires
//   default     openid-client's own assertion: aud is the issuer
//   no-kid      no kid header
//   rs256       signed RS256 while RS512 is registered
//   long-lived  exp an hour ahead
//   expired     exp ten minutes ago
//   api-key-iss iss and sub an API Platform key, not the client_id

import * as client from 'openid-client';
import { importPKCS8 } from 'jose';

const settings = JSON.parse(process.argv[2] ?? '{}');
const mode = settings.mode ?? 'good';
// Known after discovery; the assertion hook reads it.
let tokenEndpoint;

const output = await run().catch(refusal);
process.stdout.write(`${JSON.stringify(output)}\n`);

async function run() {
  const config = await discover();
  client.enableNonRepudiationChecks(config);

  const tokens = await signIn(config);
  const claims = tokens.claims();
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  return {
    ok: true,
    claims,
    refreshed_claims: refreshed.claims(),
    new_access_token: refreshed.access_token !== tokens.access_token,
    userinfo,
  };
}

async function discover() {
  const alg = mode === 'rs256' ? 'RS256' : settings.alg;
  const key = await importPKCS8(settings.private_key_pem, alg);
  const privateKey = mode === 'no-kid' ? { key } : { key, kid: settings.kid };
  const options = { [client.modifyAssertion]: mistake };
  const auth = client.PrivateKeyJwt(privateKey, options);
  // The peers run on loopback over plain HTTP, which openid-client refuses
  // unless told: this is its own, separately named opt-in.
  return client.discovery(new URL(settings.issuer), settings.client_id, {
    id_token_signed_response_alg: 'RS256',
  }, auth, { execute: [client.allowInsecureRequests] });
}

// openid-client signs with aud = the issuer (RFC 7523bis); CIS2 takes only
// the token endpoint, byte for byte, so every mode but "default" fixes aud.
function mistake(header, payload) {
  const now = Math.floor(Date.now() / 1000);
  if (mode !== 'default') {
    payload.aud = tokenEndpoint;
    header.typ = 'JWT';
  }
  if (mode === 'long-lived') {
    payload.exp = now + 3600;
  }
  if (mode === 'expired') {
    Object.assign(payload, { iat: now - 900, nbf: now - 900, exp: now - 600 });
  }
  if (mode === 'api-key-iss') {
    payload.iss = 'a'.repeat(32);
    payload.sub = 'a'.repeat(32);
  }
}


async function signIn(config) {
  tokenEndpoint = config.serverMetadata().token_endpoint;
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: settings.redirect_uri,
    scope: settings.scope ?? 'openid profile nationalrbacaccess',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    login_hint: settings.login_hint,
    acr_values: settings.acr_values ?? 'AAL3_ANY',
    prompt: 'login',
  });
  const answer = await fetch(url, { redirect: 'manual' });
  const location = answer.headers.get('location');
  if (location === null) {
    throw new Error(`the authorization endpoint answered ${answer.status} without a redirect`);
  }
  return client.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: codeVerifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
}

function refusal(error) {
  if (error instanceof client.ResponseBodyError) {
    return {
      ok: false,
      status: error.status,
      error: error.error,
      error_description: error.error_description,
      body: error.cause,
    };
  }
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
}

// A real OpenID Provider for the single sign-on tests: panva's
// oidc-provider (certified by the OpenID Foundation), an implementation
// independent of the server's client (the `openidconnect` crate).
//
// Usage: node provider.mjs --port N --client-id ID --client-secret SECRET
//          --redirect-uri URI --accounts FILE
//
// FILE is JSON: {"account id": {"email": ..., "email_verified": ...,
// "preferred_username": ...}, ...}; it is read again at every sign-in, so a
// test can add or change accounts while the provider runs. Signing in uses
// oidc-provider's development login form (any password; the login field
// names the account), which a test POSTs to or a browser fills in. Consent
// is granted on the client's behalf, as for a first-party application.
// Prints "listening on PORT" once it accepts connections.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    accounts: { type: 'string' },
  },
});

const accounts = () => JSON.parse(readFileSync(args.accounts, 'utf8'));
const issuer = `http://127.0.0.1:${args.port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: [args['redirect-uri']],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
  },
  pkce: { required: () => true },
  async findAccount(_ctx, id) {
    const claims = accounts()[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const clientId = ctx.oidc.client.clientId;
    const existing = ctx.oidc.session.grantIdFor(clientId);
    if (existing) return Grant.find(existing);
    const grant = new Grant({ clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    ctx.oidc.session.grantIdFor(clientId, grant.jti);
    return grant;
  },
});

// Development keys and interactions print warnings on standard error;
// they are what this test provider is for.
provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`listening on ${args.port}`);
  // Standard output is only for that line: a test reads it and may close
  // the pipe, so oidc-provider's later notices go to standard error.
  console.log = console.error;
  console.info = console.error;
});

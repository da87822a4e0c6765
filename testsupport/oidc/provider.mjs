// A real OpenID provider for Palier's tests: the OpenID-certified `oidc-provider` package with
// plain sign-in and consent pages of its own (no outside font or script, so the browser tests
// see no error), started by testsupport/oidc_provider.py on 127.0.0.1.
//
// Configuration: the JSON in PALIER_OIDC_TEST = {port, clients: [...], signing_key: <private JWK>,
// accounts: {login: {password, claims: {...}, amr: [...], acr}}}. The test adds accounts while it
// runs with PUT /_test/accounts/<login> (same JSON as one account) and shifts the clock this
// server announces in its Date header with PUT /_test/clock {"offset": seconds}.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.PALIER_OIDC_TEST || '{}');
const port = Number(config.port);
const accounts = new Map(Object.entries(config.accounts || {}));
let clockOffset = 0;

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: config.clients || [],
  jwks: { keys: [config.signing_key] },
  cookies: { keys: ['palier-test-only'] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  acrValues: ['urn:palier:test:mfa', 'urn:palier:test:password'],
  claims: {
    openid: ['sub', 'amr', 'acr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'locale'],
    groups: ['groups'],
  },
  findAccount: async (ctx, id) => {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ ...(account.claims || {}), sub: id }) };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true }, // the tests register Palier as a client (RFC 7591)
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${escape(JSON.stringify(out))}</pre>`);
  },
});

async function interaction(req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const uid = details.uid;
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (details.prompt.name === 'login') {
      res.end(page('Test provider: sign in', `<form method="post" action="/interaction/${uid}/login">
<label>Login <input name="login" autocomplete="off"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`));
    } else {
      res.end(page('Test provider: allow access', `<p>Palier asks for: ${escape(details.params.scope)}</p>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>`));
    }
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  if (url.pathname.endsWith('/login')) {
    const login = form.get('login') || '';
    const account = accounts.get(login);
    if (!account || (account.password || '') !== (form.get('password') || '')) {
      res.statusCode = 401;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page('Test provider: sign in', `<p role="alert">Wrong login or password.</p>
<form method="post" action="/interaction/${uid}/login"><label>Login <input name="login"></label>
<label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form>`));
      return;
    }
    const result = { login: { accountId: login, amr: account.amr, acr: account.acr } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function control(req, res, url) {
  const body = JSON.parse((await readBody(req)) || '{}');
  if (url.pathname.startsWith('/_test/accounts/')) {
    accounts.set(decodeURIComponent(url.pathname.slice('/_test/accounts/'.length)), body);
  } else if (url.pathname === '/_test/clock') {
    clockOffset = Number(body.offset || 0);
  } else {
    res.statusCode = 404;
  }
  res.end();
}

const handler = provider.callback();
createServer(async (req, res) => {
  res.setHeader('Date', new Date(Date.now() + clockOffset * 1000).toUTCString());
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  try {
    if (url.pathname.startsWith('/_test/') && req.method === 'PUT') return await control(req, res, url);
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res, url);
    return handler(req, res);
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
}).listen(port, '127.0.0.1', () => console.log(`ready on ${port}`));

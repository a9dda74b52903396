// A real OpenID Connect provider for coursebridge's sign-in tests: oidc-provider (OpenID
// certified), one confidential client, a few accounts with their tenant (`tid`, as Entra ID sends
// it) and email. The login page is replaced by an automatic login of the account the test names in
// the interaction URL (`?as=<account>`), since the tests drive the flow over plain HTTP. The test
// can move the provider's clock (`POST /test/clock?advance=<seconds>`) instead of sleeping.
//
// Usage: node provider.mjs <port> <redirect_uri> <post_logout_redirect_uri>
// Prints "ready <issuer>" on stdout when it listens.
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, redirectUri, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

let clockOffsetMs = 0;
const realNow = Date.now;
Date.now = () => realNow() + clockOffsetMs;

const accounts = {
  'lena': { name: 'Lena Ledare', given_name: 'Lena', family_name: 'Ledare', email: 'lena.ledare@regionvasterbotten.se', email_verified: true, tid: 'tenant-region' },
  'nils': { name: 'Nils Norsjö', given_name: 'Nils', family_name: 'Norsjö', email: 'nils@norsjo.se', email_verified: true, tid: 'tenant-norsjo' },
  'eve': { name: 'Eve Utsida', given_name: 'Eve', family_name: 'Utsida', email: 'eve@example.com', email_verified: true, tid: 'tenant-elsewhere' },
  // Her profile is only at the userinfo endpoint, as some providers keep it out of the ID token.
  'greta': { name: 'Greta Grip', given_name: 'Greta', family_name: 'Grip', email: 'greta@regionvasterbotten.se', email_verified: true, tid: 'tenant-region', userinfoOnly: true },
  'olle': { name: 'Olle Overifierad', given_name: 'Olle', family_name: 'Overifierad', email: 'olle@regionvasterbotten.se', email_verified: false, tid: 'tenant-region' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'coursebridge',
    client_secret: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'tid'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        // Sign out at once, as a provider does after the user confirms.
        ctx.body = `<!DOCTYPE html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
      },
    },
  },
  ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Session: 3600, Interaction: 600, Grant: 3600 },
  cookies: { keys: ['coursebridge-test-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => {
    const account = accounts[sub];
    if (!account) return undefined;
    const { userinfoOnly, ...claims } = account;
    return {
      accountId: sub,
      claims: async (use) => (userinfoOnly && use !== 'userinfo' ? { sub, tid: claims.tid } : { sub, ...claims }),
    };
  },
});
provider.proxy = false;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (req.method === 'POST' && url.pathname === '/test/clock') {
      clockOffsetMs += Number(url.searchParams.get('advance') || '0') * 1000;
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const accountId = url.searchParams.get('as');
      if (!accounts[accountId]) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown account');
        return;
      }
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    provider.callback()(req, res);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

// A real OpenID provider (panva/oidc-provider) on 127.0.0.1 for the end-to-end tests.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (the Rust app's {url}/callback/user).
// Prints "READY <issuer>" once listening on a free port.
//
// Interactions are scripted, no HTML: GET /interaction/:uid signs in the account named by the
// authorization request's `login_hint` (default "alice") and grants consent at once. The
// login_hint "deny" makes the user deny consent (error=access_denied back at the client).
//
// Optional, for the refresh tests (tests/oidc_refresh.rs); unset, the provider's defaults:
// ACCESS_TOKEN_TTL (seconds), ROTATE_REFRESH_TOKENS=1 (a new refresh token at every refresh; a
// rotated-out one used again revokes the whole grant), REVOCATION=1 (POST /token/revocation).
// Refresh tokens are issued for the scope `offline_access` asked with `prompt=consent`.
import http from "node:http";
import Provider from "oidc-provider";

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const { ACCESS_TOKEN_TTL, ROTATE_REFRESH_TOKENS, REVOCATION } = process.env;
if (!CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI) {
  console.error("CLIENT_ID, CLIENT_SECRET and REDIRECT_URI are required");
  process.exit(2);
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: REVOCATION === "1" },
  },
  ...(ACCESS_TOKEN_TTL ? { ttl: { AccessToken: Number(ACCESS_TOKEN_TTL) } } : {}),
  ...(ROTATE_REFRESH_TOKENS === "1" ? { rotateRefreshToken: true } : {}),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["oidc-e2e-cookie-key-0123456789"] },
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email", "email_verified"],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: `${id[0].toUpperCase()}${id.slice(1)} Example`,
          preferred_username: id,
          email: `${id[0].toUpperCase()}${id.slice(1)}@Example.com`,
          email_verified: true,
        };
      },
    };
  },
});

const callback = provider.callback();
server.on("request", async (req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url);
  if (!match || req.method !== "GET") return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (params.login_hint === "deny") {
      return await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "End-User denied the request" },
        { mergeWithLastSubmission: false },
      );
    }
    if (prompt.name === "login") {
      return await provider.interactionFinished(
        req,
        res,
        { login: { accountId: params.login_hint || "alice" } },
        { mergeWithLastSubmission: false },
      );
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {}))
      grant.addResourceScope(indicator, scopes.join(" "));
    const grantId = await grant.save();
    return await provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
});

console.log(`READY ${issuer}`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

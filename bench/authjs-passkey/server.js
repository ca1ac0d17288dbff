// The Auth.js peer of bench/passkeys.sh: @auth/express 0.12.3 (-> @auth/core 0.41.3,
// @simplewebauthn/server 9.0.3) with only the Passkey provider, `experimental.enableWebAuthn`,
// and an in-memory adapter (users, accounts, authenticators, sessions in Maps: its store costs
// nothing, which favours Auth.js against a server that writes to SQLite).
//
//   npm ci && PORT=3202 node server.js
//
// Environment: PORT (3000), HOST (127.0.0.1), AUTH_SECRET (a fixed benchmark secret),
// AUTH_URL (http://localhost:$PORT/api/auth: the WebAuthn RP id is its host, `localhost`),
// SESSION_STRATEGY (jwt | database; jwt unless set).
import crypto from "node:crypto";
import express from "express";
import { ExpressAuth } from "@auth/express";
import Passkey from "@auth/express/providers/passkey";

const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? "127.0.0.1";
const AUTH_SECRET =
  process.env.AUTH_SECRET ?? "bench-passkey-secret-0123456789abcdef0123456789";
// Auth.js reads AUTH_URL from the environment only through `setEnvDefaults` of next-auth; the
// Express adapter builds the request URL from the Host header (trustHost). The driver sends
// `Host: localhost:PORT`, so the RP id is `localhost` and the origin `http://localhost:PORT`.
const SESSION_STRATEGY = process.env.SESSION_STRATEGY ?? "jwt";

/** Auth.js's adapter methods for passkeys (and database sessions), over Maps. */
function memoryAdapter() {
  const users = new Map(); // id -> user
  const usersByEmail = new Map(); // email -> user
  const accounts = new Map(); // provider + " " + providerAccountId -> account
  const authenticators = new Map(); // credentialID -> authenticator
  const authenticatorsByUser = new Map(); // userId -> [authenticator]
  const sessions = new Map(); // sessionToken -> session
  const accountKey = (provider, id) => provider + " " + id;
  return {
    async createUser(user) {
      const stored = { ...user, id: crypto.randomUUID() };
      users.set(stored.id, stored);
      if (stored.email) usersByEmail.set(stored.email, stored);
      return stored;
    },
    async getUser(id) {
      return users.get(id) ?? null;
    },
    async getUserByEmail(email) {
      return usersByEmail.get(email) ?? null;
    },
    async getUserByAccount({ provider, providerAccountId }) {
      const account = accounts.get(accountKey(provider, providerAccountId));
      return account ? users.get(account.userId) ?? null : null;
    },
    async updateUser(user) {
      const stored = { ...users.get(user.id), ...user };
      users.set(stored.id, stored);
      if (stored.email) usersByEmail.set(stored.email, stored);
      return stored;
    },
    async linkAccount(account) {
      accounts.set(accountKey(account.provider, account.providerAccountId), account);
      return account;
    },
    async getAccount(providerAccountId, provider) {
      return accounts.get(accountKey(provider, providerAccountId)) ?? null;
    },
    async createSession(session) {
      sessions.set(session.sessionToken, session);
      return session;
    },
    async getSessionAndUser(sessionToken) {
      const session = sessions.get(sessionToken);
      if (!session) return null;
      const user = users.get(session.userId);
      return user ? { session, user } : null;
    },
    async updateSession(session) {
      const stored = { ...sessions.get(session.sessionToken), ...session };
      sessions.set(stored.sessionToken, stored);
      return stored;
    },
    async deleteSession(sessionToken) {
      sessions.delete(sessionToken);
    },
    async getAuthenticator(credentialID) {
      return authenticators.get(credentialID) ?? null;
    },
    async createAuthenticator(authenticator) {
      // Refuse a credential id that exists (what the Prisma schema's unique constraint does).
      if (authenticators.has(authenticator.credentialID)) {
        throw new Error("duplicate credential id");
      }
      authenticators.set(authenticator.credentialID, authenticator);
      const list = authenticatorsByUser.get(authenticator.userId) ?? [];
      list.push(authenticator);
      authenticatorsByUser.set(authenticator.userId, list);
      return authenticator;
    },
    async listAuthenticatorsByUserId(userId) {
      return authenticatorsByUser.get(userId) ?? [];
    },
    async updateAuthenticatorCounter(credentialID, counter) {
      const authenticator = authenticators.get(credentialID);
      if (!authenticator) throw new Error("unknown authenticator");
      authenticator.counter = counter;
      return authenticator;
    },
  };
}

export const authConfig = {
  secret: AUTH_SECRET,
  trustHost: true,
  basePath: "/api/auth",
  session: { strategy: SESSION_STRATEGY },
  experimental: { enableWebAuthn: true },
  adapter: memoryAdapter(),
  providers: [Passkey],
  // With enableWebAuthn, Auth.js warns `experimental-webauthn` on every request (a line on
  // stderr per request); a deployment would silence it, so this peer does (it favours Auth.js).
  // Errors and other warnings are logged as by default.
  logger: {
    warn(code) {
      if (code !== "experimental-webauthn") console.warn(`[auth][warn][${code}]`);
    },
  },
};

const app = express();
app.disable("x-powered-by");
app.set("trust proxy", true);
app.use("/api/auth/*", ExpressAuth(authConfig));

const server = app.listen(PORT, HOST, () => {
  console.log(`authjs passkey peer on http://${HOST}:${PORT} (pid ${process.pid}, sessions ${SESSION_STRATEGY})`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => server.close(() => process.exit(0)));
}

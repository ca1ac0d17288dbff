// next-auth's own PostgreSQL adapter (@auth/pg-adapter) on the schema $PG_SCHEMA of the test
// database, driven by tests/pg_adapter_interop.rs. `node adapter.mjs write` writes what a next-auth
// app writes (a user, their GitHub account, a live session, an e-mail verification token hashed
// as next-auth hashes it) and prints it; `node adapter.mjs read <provider> <id>` prints the user
// the adapter finds for an account this library wrote.
import crypto from "node:crypto";
import pg from "pg";
import PostgresAdapter from "@auth/pg-adapter";

const schema = process.env.PG_SCHEMA;
if (!schema || !/^[a-z0-9_]+$/.test(schema)) throw new Error(`PG_SCHEMA is not a schema name: ${schema}`);
const pool = new pg.Pool({
  host: "127.0.0.1",
  port: 5432,
  user: process.env.PG_USER || "postgres",
  database: "test",
  options: `-c search_path=${schema}`,
  max: 2,
});
const adapter = PostgresAdapter(pool);
const [command, ...args] = process.argv.slice(2);

try {
  if (command === "write") {
    const user = await adapter.createUser({ name: "Nora Next", email: "nora@example.com", emailVerified: null, image: "https://example.com/nora.png" });
    await adapter.linkAccount({
      userId: user.id, type: "oauth", provider: "github", providerAccountId: "4242",
      access_token: "gho_example", token_type: "bearer", scope: "read:user",
    });
    const session = await adapter.createSession({
      sessionToken: crypto.randomUUID(), userId: user.id, expires: new Date(Date.now() + 3600 * 1000),
    });
    // next-auth's e-mail link token: stored as sha256(token + secret) in hex.
    const token = crypto.randomBytes(32).toString("hex");
    const hashed = crypto.createHash("sha256").update(`${token}${process.env.AUTH_SECRET}`).digest("hex");
    await adapter.createVerificationToken({ identifier: "nora@example.com", token: hashed, expires: new Date(Date.now() + 3600 * 1000) });
    console.log(JSON.stringify({ userId: String(user.id), sessionToken: session.sessionToken, emailToken: token }));
  } else if (command === "read") {
    const user = await adapter.getUserByAccount({ provider: args[0], providerAccountId: args[1] });
    console.log(JSON.stringify(user));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} finally {
  await pool.end();
}

// Bundles passkey.entry.mjs (the real next-auth/webauthn client) for the browser:
//   node bundle.mjs OUTFILE
// One IIFE script; `process.env.*` of next-auth's client read as in a Next.js browser build
// (NEXTAUTH_URL unset: the API is at /api/auth on the page's origin).
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const outfile = process.argv[2];
if (!outfile) {
  console.error("usage: node bundle.mjs OUTFILE");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [path.join(here, "passkey.entry.mjs")],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "chrome120",
  outfile,
  logLevel: "warning",
  define: {
    "process.env.NODE_ENV": '"production"',
    "process.env.NEXTAUTH_URL": "undefined",
    "process.env.NEXTAUTH_URL_INTERNAL": "undefined",
    "process.env.VERCEL_URL": "undefined",
  },
});
console.log(`bundled next-auth/webauthn into ${outfile}`);

import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HeraldError } from "../core/errors.ts";

/**
 * Where `npm run build` puts the page (scripts/build-page.mjs): `dist/web/` of the package. This
 * file is at the same depth in src/ and dist/, so one relative URL works from both.
 */
const PAGE_DIR = new URL("../../dist/web/", import.meta.url);

/**
 * Headers of the page's files. The CSP allows only Herald's own scripts, styles and connections:
 * no inline script runs, so published text that looks like HTML can do nothing even if it were
 * ever put into the DOM as HTML (the page only uses textContent).
 */
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** The page's files, built ahead of time (no bundler at run time): route -> file in dist/web and its type. */
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/herald-client.js": { file: "herald-client.js", type: "text/javascript; charset=utf-8" },
};

const cache = new Map<string, Promise<Uint8Array>>();

/** The page's paths (routes.ts mounts `handlePage` on each). */
export const PAGE_PATHS: readonly string[] = Object.keys(FILES);

/** `GET /` and the page's files: the demo page, its script and style, and `/herald-client.js` (the SDK as one ES module). */
export async function handlePage(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const spec = FILES[path];
  if (spec === undefined) throw new HeraldError("not_found", `no page file ${path}`);
  let body = cache.get(path);
  if (body === undefined) {
    body = load(spec.file);
    cache.set(path, body);
    body.catch(() => cache.delete(path));
  }
  const bytes = await body;
  res.writeHead(200, { ...PAGE_HEADERS, "Content-Type": spec.type, "Content-Length": bytes.length });
  res.end(bytes);
}

async function load(file: string): Promise<Uint8Array> {
  try {
    return await readFile(new URL(file, PAGE_DIR));
  } catch (error) {
    throw new HeraldError("internal", `the page's ${file} is not built: run \`npm run build\``, {
      cause: error,
    });
  }
}

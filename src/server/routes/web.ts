import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { HeraldError } from "../../core/errors.ts";
import type { Router } from "../router.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

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

/** Files of the page; the TypeScript ones are bundled once with esbuild (tsx's dependency) on first request. */
const FILES: Record<string, { file: string; type: string; bundle?: boolean }> = {
  "/": { file: "web/index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "web/style.css", type: "text/css; charset=utf-8" },
  "/app.js": { file: "web/app.ts", type: "text/javascript; charset=utf-8", bundle: true },
  "/herald-client.js": { file: "src/client/index.ts", type: "text/javascript; charset=utf-8", bundle: true },
};

const cache = new Map<string, Promise<Uint8Array>>();

/** Adds the demo page's routes: `/` (the page), its script and style, and `/herald-client.js` (the SDK as one ES module). */
export function addWebRoutes(router: Router): Router {
  for (const [path, spec] of Object.entries(FILES)) {
    router.add("GET", path, async (_req: IncomingMessage, res: ServerResponse) => {
      let body = cache.get(path);
      if (body === undefined) {
        body = load(spec.file, spec.bundle === true);
        cache.set(path, body);
        body.catch(() => cache.delete(path));
      }
      const bytes = await body;
      res.writeHead(200, { ...PAGE_HEADERS, "Content-Type": spec.type, "Content-Length": bytes.length });
      res.end(bytes);
    });
  }
  return router;
}

async function load(file: string, bundle: boolean): Promise<Uint8Array> {
  const path = ROOT + file;
  if (!bundle) return readFile(path);
  try {
    const esbuild = await import("esbuild");
    const result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2020",
      minify: true,
      write: false,
      logLevel: "silent",
    });
    return result.outputFiles[0]!.contents;
  } catch (error) {
    throw new HeraldError("internal", `cannot bundle ${file} for the page`, { cause: error });
  }
}

/**
 * The URL of one of Herald's routes (`events`, `publish`) under its base URL. The base may keep a
 * path (a hub behind a proxy at `/hub/`); in a browser it may be relative to the page ("/", "").
 */
export function routeUrl(base: string | URL, route: string): URL {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const absolute = new URL(String(base) || "./", page);
  if (!absolute.pathname.endsWith("/")) absolute.pathname += "/";
  return new URL(route, absolute);
}

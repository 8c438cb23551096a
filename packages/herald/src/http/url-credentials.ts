/**
 * A URL Herald calls (`--webhook-url`, `--jwks-url`) without its `user:password@`, which travel as
 * `Authorization: Basic` instead: the usual way to reach an endpoint behind Basic auth, and fetch
 * refuses a URL that carries credentials. The URL was checked at start (config `url` kind: http or
 * https, with a host). Only `url` may be logged: the credentials never are.
 */
export interface Endpoint {
  readonly url: string;
  readonly authorization?: string;
}

export function endpointOf(text: string): Endpoint {
  const url = new URL(text);
  if (url.username === "" && url.password === "") return { url: url.href };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = "";
  url.password = "";
  return { url: url.href, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

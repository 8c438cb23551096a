import { badRequest } from "../core/errors.ts";

/**
 * The name/value pairs of a query, decoded as application/x-www-form-urlencoded (`+` is a space)
 * with UTF-8 checked: 400 for a percent-encoding that is not valid UTF-8 (URLSearchParams would put
 * U+FFFD in its place, in silence: a topic nobody publishes to). Every stream route reads its query
 * values (topics, resume ids) with this. With `only`, just that parameter's pairs, and only their
 * values are checked (Herald's own routes); without, every pair (Mercure's subscribe, which refuses
 * unknown names of its namespace).
 */
export function strictQuery(search: string, only?: string): [string, string][] {
  const pairs: [string, string][] = [];
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (query === "") return pairs;
  for (const part of query.split("&")) {
    if (part === "") continue;
    const at = part.indexOf("=");
    const rawName = at < 0 ? part : part.slice(0, at);
    const rawValue = at < 0 ? "" : part.slice(at + 1);
    if (only === undefined) {
      pairs.push([decode(rawName), decode(rawValue)]);
      continue;
    }
    // only the parameter read is checked: a parameter Herald never reads (a tracking `ref` in
    // Latin-1) must not cost the request
    const name = decodeLeniently(rawName);
    if (name === only) pairs.push([name, decode(rawValue)]);
  }
  return pairs;
}

/** A name as URLSearchParams decodes it (bad UTF-8 becomes U+FFFD): only compared, never used. */
function decodeLeniently(raw: string): string {
  return new URLSearchParams(`${raw}=`).keys().next().value ?? "";
}

function decode(raw: string): string {
  const text = raw.replace(/\+/g, " ");
  try {
    return decodeURIComponent(text);
  } catch {
    // a lone "%" not followed by two hex digits is kept as is (WHATWG); bad UTF-8 is refused
    const lenient = text.replace(/%(?![0-9A-Fa-f]{2})/g, "%25");
    try {
      return decodeURIComponent(lenient);
    } catch {
      throw badRequest(
        `the request has a percent-encoded value that is not valid UTF-8: ${JSON.stringify(raw.slice(0, 60))}`,
      );
    }
  }
}

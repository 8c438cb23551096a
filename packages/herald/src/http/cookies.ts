/** The value of cookie `name` in a Cookie header, or undefined. Values are taken as sent (no decoding). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 16_384) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
    }
  }
  return undefined;
}

export interface CookieOptions {
  readonly sameSite: string;
  readonly secure: boolean;
  /** Seconds until the browser drops it; 0 deletes it; undefined = a session cookie. */
  readonly maxAgeSec?: number | undefined;
}

/** A Set-Cookie value: HttpOnly, Path=/, SameSite as given, Secure when asked (always with SameSite=None). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  let cookie = `${name}=${value}; Path=/; HttpOnly; SameSite=${options.sameSite}`;
  if (options.secure || options.sameSite === "None") cookie += "; Secure";
  if (options.maxAgeSec !== undefined) cookie += `; Max-Age=${Math.max(0, Math.floor(options.maxAgeSec))}`;
  return cookie;
}

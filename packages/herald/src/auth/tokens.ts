import { randomBytes } from "node:crypto";
import { type JWTPayload, SignJWT } from "jose";

/** A random HS256 secret (32 bytes, base64url): what Herald uses when no key is configured. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface MintOptions {
  /** Seconds from now until `exp`; absent = no expiry. */
  readonly expiresInSec?: number;
  readonly subject?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Signs an HS256 token with `claims` (e.g. `{herald: {publish: ["*"]}}`): the dev token, and tests. */
export function mintHs256(secret: string, claims: JWTPayload, options: MintOptions = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt();
  if (options.expiresInSec !== undefined)
    jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresInSec);
  if (options.subject !== undefined) jwt = jwt.setSubject(options.subject);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

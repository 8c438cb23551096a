import { readFileSync } from "node:fs";
import { ConfigError, type HeraldConfig } from "../config/settings.ts";
import type { Authorizer } from "../core/auth.ts";
import { checkMercureKeys } from "../mercure/keys.ts";
import type { Logger } from "../ops/logger.ts";
import {
  createJwtAuthorizer,
  derPublicKeyAlgorithm,
  generateSecret,
  type KeySource,
  keyLike,
  mintHs256,
  pemOfDer,
  publicKeyAlgorithm,
} from "./index.ts";

export interface AuthSetup {
  readonly authorizer: Authorizer;
  /** What verifies tokens, for the start log. */
  readonly keyDescription: string;
  /**
   * Set when no key was configured: a token signed with the random secret of this run that may
   * publish to and read private events on every topic. Printed at start; dies with the process.
   */
  readonly devToken?: string;
}

/**
 * Refuses, before anything starts, a key setting whose value does not fit its algorithm: Herald's
 * own (HERALD_JWT_SECRET is an HS256 secret: no PEM block or JWK; HERALD_JWT_PUBLIC_KEY is a PEM
 * public key or certificate: not a private key, not other text) and Mercure's (`checkMercureKeys`).
 * A public key taken as an HMAC secret would let anyone sign accepted tokens (key confusion).
 * Throws a ConfigError naming the setting and what fits. A loaded config's HERALD_JWT_SECRET and
 * Mercure algorithms were already checked as values (config/kinds.ts, naming the file and key when
 * they came from one); a config built in code was not.
 */
export function checkKeySettings(config: HeraldConfig): void {
  if (config.jwtSecret !== "") {
    const notSecret = keyLike(config.jwtSecret);
    if (notSecret !== undefined) {
      throw new ConfigError(
        `HERALD_JWT_SECRET is ${notSecret}, but it takes an HS256 shared secret: a public key is no secret (anyone could sign tokens with it). Give a public key in HERALD_JWT_PUBLIC_KEY (PEM) or a key set in HERALD_JWKS_URL instead, or set HERALD_JWT_SECRET to a random secret of 32 characters or more`,
      );
    }
  }
  if (config.jwtPublicKey !== "") {
    try {
      publicKeyAlgorithm(readPem(config.jwtPublicKey).trim());
    } catch (error) {
      const message = (error as Error).message;
      throw new ConfigError(
        message.startsWith("HERALD_JWT_PUBLIC_KEY") ? message : `HERALD_JWT_PUBLIC_KEY: ${message}`,
      );
    }
  }
  try {
    checkMercureKeys(config);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Builds the Authorizer from the config: one key source, or a random HS256 secret when none is set. */
export async function setupAuth(config: HeraldConfig): Promise<AuthSetup> {
  let source: KeySource;
  let devSecret: string | undefined;
  if (config.jwtSecret !== "") source = { kind: "secret", secret: config.jwtSecret };
  else if (config.jwtPublicKey !== "") source = { kind: "pem", pem: readPem(config.jwtPublicKey) };
  else if (config.jwksUrl !== "") {
    source = {
      kind: "jwks",
      url: config.jwksUrl,
      cacheMaxAgeMs: config.jwksCacheMs,
      cooldownMs: config.jwksCooldownMs,
    };
  } else {
    devSecret = generateSecret();
    source = { kind: "secret", secret: devSecret };
  }
  const authorizer = await createJwtAuthorizer({
    key: source,
    issuer: config.jwtIssuer === "" ? undefined : config.jwtIssuer,
    audience: config.jwtAudience === "" ? undefined : config.jwtAudience,
    clockToleranceSec: config.jwtLeewayMs / 1000,
  });
  const keyDescription =
    devSecret === undefined ? authorizer.verifier.key.description : "random HS256 secret";
  if (devSecret === undefined) return { authorizer, keyDescription };
  return { authorizer, keyDescription, devToken: await mintDevToken(devSecret, config) };
}

/** True when no key source is configured (a random secret is made for the run). */
export function noKeyConfigured(config: HeraldConfig): boolean {
  return config.jwtSecret === "" && config.jwtPublicKey === "" && config.jwksUrl === "";
}

/** The printed development token: may publish to and read every topic. */
export function mintDevToken(secret: string, config: HeraldConfig): Promise<string> {
  return mintHs256(
    secret,
    { herald: { publish: ["*"], subscribe: ["*"] } },
    {
      subject: "herald-dev",
      issuer: config.jwtIssuer === "" ? undefined : config.jwtIssuer,
      audience: config.jwtAudience === "" ? undefined : config.jwtAudience,
    },
  );
}

/**
 * The start banner of a run with no key: one log line (warn) with the token as the field `token`
 * and a `curl` line that publishes with it, ready to paste (both on lines of their own in the
 * readable log format). `url` is where this run listens.
 */
export function logDevToken(log: Logger, token: string, url: string): void {
  const curl = `curl -X POST ${url}/publish -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' -d '{"topic":"news","data":"hello"}'`;
  log.warn(
    { token, curl },
    "no key configured (HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL): tokens are signed with a random secret made for this run; `token` may publish to and read every topic until Herald stops",
  );
}

/**
 * HERALD_JWT_PUBLIC_KEY: PEM text (literal `\n` allowed, for one-line env vars), the PEM body
 * alone (base64 DER), or a file path.
 */
function readPem(value: string): string {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n");
  if (derPublicKeyAlgorithm(value) !== undefined) return pemOfDer(value);
  try {
    return readFileSync(value, "utf8");
  } catch (error) {
    throw new ConfigError(
      `HERALD_JWT_PUBLIC_KEY is neither PEM text nor a readable file (${(error as Error).message}): give a "-----BEGIN PUBLIC KEY-----" block (RSA, EC or Ed25519), a certificate, or the path of a file holding one`,
    );
  }
}

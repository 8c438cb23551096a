// Token verifications per second for each key type (one core, sequential).
// Usage: node --import tsx bench/auth-verify.ts
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { createJwtAuthorizer, type KeySource, mintHs256 } from "../packages/herald/src/auth/index.ts";

async function measure(label: string, source: KeySource, token: string, n: number): Promise<void> {
  const authorizer = await createJwtAuthorizer({ key: source });
  for (let i = 0; i < n / 10; i++) await authorizer.authenticate(token);
  const started = performance.now();
  for (let i = 0; i < n; i++) await authorizer.authenticate(token);
  const perSec = Math.round(n / ((performance.now() - started) / 1000));
  process.stdout.write(`${label}: ${perSec} verifications/s\n`);
}

const secret = "0123456789abcdef0123456789abcdef";
const claims = { herald: { publish: ["*"], subscribe: ["orders/*"] } };
await measure(
  "HS256",
  { kind: "secret", secret },
  await mintHs256(secret, claims, { expiresInSec: 600 }),
  20_000,
);
for (const alg of ["ES256", "RS256"] as const) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setExpirationTime("10m")
    .sign(pair.privateKey);
  await measure(alg, { kind: "pem", pem: await exportSPKI(pair.publicKey) }, token, 5_000);
}

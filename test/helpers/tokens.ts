import { type MintOptions, mintHs256 } from "../../packages/herald/src/auth/index.ts";

/** The HS256 secret test servers are started with (`jwtSecret: TEST_SECRET`). */
export const TEST_SECRET = "herald-test-secret-0123456789-abcdef";

/** A token signed with TEST_SECRET carrying `{herald: {publish, subscribe}}`. */
export function heraldToken(
  rights: { publish?: string[]; subscribe?: string[] },
  options: MintOptions & { claims?: Record<string, unknown> } = {},
): Promise<string> {
  return mintHs256(TEST_SECRET, { ...options.claims, herald: rights }, options);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway CA and a server certificate it signed, for 127.0.0.1 and localhost (PEM files). */
export interface TestCerts {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  remove(): void;
}

/** Makes the CA and the certificate with `openssl` in a temporary directory (valid one day). */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "herald-tls-"));
  const at = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const result = spawnSync("openssl", args, { encoding: "utf8", timeout: 30_000 });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=herald-test-ca"].concat([
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.crt"),
    ]),
  );
  run(
    ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", at("server.key")].concat([
      "-out",
      at("server.csr"),
    ]),
  );
  run(
    ["x509", "-req", "-in", at("server.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key")].concat([
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      at("san.ext"),
      "-out",
      at("server.crt"),
    ]),
  );
  return {
    ca: at("ca.crt"),
    cert: at("server.crt"),
    key: at("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** redis-server (and Sentinel) settings to serve TLS with `certs` (clients need no certificate). */
export function redisTlsArgs(certs: TestCerts): string[] {
  return [
    ...["--tls-cert-file", certs.cert, "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca],
    ...["--tls-auth-clients", "no"],
  ];
}

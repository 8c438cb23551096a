import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The `--webhook-secret` of the webhook tests. */
export const SECRET = "webhook-test-secret";

export interface Delivery {
  id: string;
  type: string;
  topic: string;
  sub?: string | null;
  attempt: number;
}

/**
 * A real HTTP receiver: checks `Herald-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256 of
 * `<t>.<body>` with the secret, as docs/webhooks.md shows), answers 500 to the first `failFirst`
 * requests, records every verified delivery.
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly rejected: string[] = [];
  /** The Authorization header of each verified delivery ("" when none). */
  readonly authorizations: string[] = [];
  requests = 0;
  private server: Server | undefined;
  url = "";
  /** `hang`: never answers (a dead receiver that keeps the connection open). */
  constructor(
    private readonly failFirst = 0,
    private readonly hang = false,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        body += chunk;
      });
      req.on("end", () => {
        this.requests++;
        if (this.hang) return;
        const header = String(req.headers["herald-signature"] ?? "");
        const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
        const v1 = /(?:^|,)v1=([0-9a-f]+)/.exec(header)?.[1];
        const expected = createHmac("sha256", SECRET).update(`${t}.${body}`).digest();
        const given = Buffer.from(v1 ?? "", "hex");
        const fresh = t !== undefined && Math.abs(Date.now() / 1000 - Number(t)) <= 300;
        if (!fresh || given.length !== expected.length || !timingSafeEqual(given, expected)) {
          this.rejected.push(header);
          res.writeHead(400).end("bad signature");
          return;
        }
        if (this.requests <= this.failFirst) {
          res.writeHead(500).end("try again");
          return;
        }
        this.deliveries.push(JSON.parse(body) as Delivery);
        this.authorizations.push(String(req.headers.authorization ?? ""));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  of(type: string, topic: string): Delivery[] {
    return this.deliveries.filter((d) => d.type === type && d.topic === topic);
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

import { connect } from "node:net";
import type { Answer } from "./validator.ts";

/** Requests for the OpenAPI tests: each answers what `ApiDescription.check` reads. */

/** One request, its whole answer. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A POST with a JSON body (`body` is sent as is when it is a string). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A Mercure publish: form fields (repeat a name for several topics). */
export function postForm(url: string, fields: [string, string][], headers: Record<string, string> = {}) {
  return call(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export interface OpenStream extends Answer {
  /** Ends the request (the server sees the client leave). */
  close(): void;
}

/**
 * A stream request: an error answer is read whole; a 200 is read until its opening (`: ok` and
 * the `retry:` hint) has arrived, and stays open until `close()`. `send`: another method than GET,
 * with a body (Mercure's QUERY).
 */
export async function openStream(
  url: string,
  headers: Record<string, string> = {},
  send: { method: string; body: string } | undefined = undefined,
): Promise<OpenStream> {
  const abort = new AbortController();
  const close = () => abort.abort();
  const response = await fetch(url, {
    method: send?.method ?? "GET",
    body: send?.body,
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  if (response.status !== 200 || response.body === null) {
    return { status: response.status, headers: response.headers, body: await response.text(), close };
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let body = "";
  while (!/retry: \d+\n\n/.test(body)) {
    const { done, value } = await reader.read();
    if (done) break;
    body += decoder.decode(value, { stream: true });
  }
  return { status: response.status, headers: response.headers, body, close };
}

/**
 * A request written on a raw socket (for targets fetch cannot send): the status, headers and body
 * of the answer, read until the server closes or the declared length has arrived.
 */
export function rawRequest(port: number, head: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    const done = () => {
      const [top = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = top.split("\r\n");
      const headers = new Headers();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const length = /\r\ncontent-length: (\d+)/i.exec(text);
      const bodyAt = text.indexOf("\r\n\r\n");
      if (length !== null && bodyAt >= 0 && Buffer.byteLength(text.slice(bodyAt + 4)) >= Number(length[1])) {
        socket.destroy();
        done();
      }
    });
    socket.on("end", () => {
      socket.destroy();
      done();
    });
    socket.on("error", reject);
  });
}

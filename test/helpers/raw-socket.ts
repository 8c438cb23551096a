import { connect, type Socket } from "node:net";

/**
 * A raw TCP client as an attacker writes one: `allowHalfOpen`, so it never closes its side by itself
 * (a client that answers the server's FIN with its own would hide a server that never closes).
 * `text` is everything received (latin1: bytes as characters); `ended` once the server's FIN came.
 */
export class RawSocket {
  text = "";
  ended = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => {
      this.text += chunk;
    });
    this.socket.on("end", () => {
      this.ended = true;
    });
    this.socket.on("error", () => {});
  }

  connected(): Promise<void> {
    return new Promise((resolve) => this.socket.once("connect", () => resolve()));
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }
}

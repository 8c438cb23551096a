/**
 * The address a server is bound to, as logged at start (`[::]:8080` when it listens on every
 * interface), and a URL that reaches it from this machine (`localhost` for every interface).
 */
export function boundAddress(bound: { address: string; port: number; family: string }): {
  address: string;
  url: string;
} {
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const every = bound.address === "::" || bound.address === "0.0.0.0";
  return { address: `${host}:${bound.port}`, url: `http://${every ? "localhost" : host}:${bound.port}` };
}

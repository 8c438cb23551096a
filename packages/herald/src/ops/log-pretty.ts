/**
 * The readable form of a log line (`--log-format pretty`, the default on a terminal), made from
 * the JSON line pino writes, e.g.
 *
 *     12:00:01.042 INFO  w0 4711  Herald listening  address=[::]:8080 url=http://localhost:8080
 *     12:00:01.043 WARN  w0 4711  no key configured (...): ...
 *         token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...
 *
 * `w0` is the worker index (`primary` for the `--workers` primary). A field whose value is long or
 * holds a space gets a line of its own, so it can be copied whole; an error's stack follows it.
 * For people only: collectors read the JSON lines.
 */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json; // not ours: as it is
  }
  const { time, level, service: _service, pid, worker, msg, err, ...fields } = entry;
  const clock = typeof time === "string" ? time.slice(11, 23) : "";
  const who = worker === null ? "primary" : `w${String(worker)}`;
  const inline: string[] = [];
  const own: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    if (text.length > 60 || text.includes(" ")) own.push(`    ${key}: ${text}`);
    else inline.push(`${key}=${text}`);
  }
  let head = `${clock} ${String(level).toUpperCase().padEnd(5)} ${who} ${String(pid)}  ${String(msg ?? "")}`;
  if (inline.length > 0) head += `  ${inline.join(" ")}`;
  if (err !== undefined) {
    const e = err as { stack?: string; message?: string };
    own.push(
      ...String(e.stack ?? e.message ?? JSON.stringify(err))
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  return `${[head, ...own].join("\n")}\n`;
}

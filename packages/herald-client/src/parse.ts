/** The default `parse`: JSON when the text is JSON, else the text itself. */
export function parseJsonOrText<T>(text: string): T {
  const value = safeJson(text);
  return (value === undefined ? text : value) as T;
}

/** JSON.parse, or undefined when the text is not JSON. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

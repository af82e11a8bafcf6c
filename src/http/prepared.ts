/**
 * JSON answers the gateway's own server writes from their text. A `Response` hides its body
 * behind a stream and its headers behind WebIDL iteration; reading them back per answer cost
 * more than making it. So a JSON answer is still a real `Response` (handlers, tests and wrappers
 * see nothing else), and the server looks up the status, fields and text it was made from. An
 * answer is never changed after it is made: a wrapper that adds headers makes a new `Response`,
 * which has no prepared form.
 */

/** What a JSON answer was made from. */
export interface PreparedAnswer {
  status: number;
  /** Its header fields as written on the wire (`name: value\r\n` each). */
  fields: string;
  body: string;
}

const prepared = new WeakMap<Response, PreparedAnswer>();
const JSON_TYPE = "application/json";
const JSON_FIELDS = `content-type: ${JSON_TYPE}\r\n`;
const JSON_HEADERS = { "content-type": JSON_TYPE } as const;

/**
 * A JSON answer; `headers` are added to its content type (names lowercase, values checked by
 * the caller: they come from the gateway, never from a client).
 */
export function jsonResponse(
  body: string,
  status = 200,
  headers?: Readonly<Record<string, string>>,
): Response {
  if (headers === undefined) {
    const res = new Response(body, { status, headers: JSON_HEADERS });
    prepared.set(res, { status, fields: JSON_FIELDS, body });
    return res;
  }
  const res = new Response(body, { status, headers: { ...JSON_HEADERS, ...headers } });
  let fields = JSON_FIELDS;
  for (const name in headers) fields += `${name}: ${headers[name]}\r\n`;
  prepared.set(res, { status, fields, body });
  return res;
}

/** The form a JSON answer was made from, when {@link jsonResponse} made it. */
export function preparedOf(res: Response): PreparedAnswer | undefined {
  return prepared.get(res);
}

/**
 * JSON answers the gateway's own server writes from their text. A `Response` hides its body
 * behind a stream and its headers behind WebIDL iteration; reading them back per answer cost
 * more than making it. So a JSON answer is still a real `Response` (handlers, tests and wrappers
 * see nothing else) that also keeps the status, fields and text it was made from. An answer is
 * never changed after it is made: a wrapper that adds headers makes a new `Response`, which is
 * written the usual way.
 */

const JSON_TYPE = "application/json";
const JSON_FIELDS = `content-type: ${JSON_TYPE}\r\n`;
const JSON_HEADERS = { "content-type": JSON_TYPE } as const;

/** A JSON answer with the text it was made from; {@link jsonResponse} makes them. */
export class PreparedAnswer extends Response {
  /** Its header fields as written on the wire (`name: value\r\n` each). */
  readonly fields: string;
  /** Its body. */
  readonly bodyText: string;

  constructor(json: string, status: number, headers?: Readonly<Record<string, string>>) {
    const all = headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers };
    super(json, { status, headers: all });
    let fields = JSON_FIELDS;
    if (headers !== undefined) {
      fields = "";
      for (const name in all) fields += `${name}: ${all[name as keyof typeof all]}\r\n`;
    }
    this.fields = fields;
    this.bodyText = json;
  }
}

/**
 * A JSON answer; `headers` are added to its content type (names lowercase; the values come
 * from the gateway and are checked by the `Response` they also go into).
 */
export function jsonResponse(
  body: string,
  status = 200,
  headers?: Readonly<Record<string, string>>,
): Response {
  return new PreparedAnswer(body, status, headers);
}

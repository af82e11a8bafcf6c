/** The error every config problem becomes: where it is, which key, and what is wrong. */

/**
 * A config problem at `file:line:column` (1-based; line 0 when the file itself could not be
 * read), with the config `path` of the offending key ("" for the whole document).
 */
export class ConfigError extends SyntaxError {
  /** Always "ConfigError". */
  override name = "ConfigError";
  /** The config file as the user named it. */
  readonly file: string;
  /** 1-based line of the problem; 0 when there is no position (the file could not be read). */
  readonly line: number;
  /** 1-based column of the problem; 0 when `line` is 0. */
  readonly column: number;
  /** Config path of the offending key, like `servers[0].auth.token_env`; "" for the document. */
  readonly path: string;
  /** What is wrong, without the location. */
  readonly reason: string;

  /** Builds the error; its message is `file:line:column: path: reason` (see the class doc). */
  constructor(file: string, line: number, column: number, path: string, reason: string) {
    const where = line > 0 ? `${file}:${line}:${column}` : file;
    super(path === "" ? `${where}: ${reason}` : `${where}: ${path}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.path = path;
    this.reason = reason;
  }
}

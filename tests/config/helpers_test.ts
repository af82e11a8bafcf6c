import { deepEqual, equal } from "node:assert/strict";
import { formatPath, quote, quotePath } from "../../src/config/format.ts";
import { parseLogLevel } from "../../src/config/log_level.ts";
import { isHttpUrl, parseHost, parseOrigin, redactUrl } from "../../src/config/net.ts";
import { closest } from "../../src/config/suggest.ts";

Deno.test("closest() suggests a key within two edits", () => {
  const keys = ["name", "url", "protocol", "token_env", "timeout"];
  equal(closest("nmae", keys), "name");
  equal(closest("Name", keys), "name");
  equal(closest("protcol", keys), "protocol");
  equal(closest("tokenenv", keys), "token_env");
  equal(closest("timout", keys), "timeout");
  equal(closest("colour", keys), undefined);
  equal(closest("x", ["y"]), undefined);
});

Deno.test("formatPath() prints config paths as messages show them", () => {
  equal(formatPath([]), "");
  equal(formatPath(["servers", 0, "auth", "token_env"]), "servers[0].auth.token_env");
  equal(formatPath(["servers", 1, "headers", "X-API-Key"]), "servers[1].headers.X-API-Key");
  equal(formatPath(["servers", 1, "headers", "X.Y z"]), 'servers[1].headers["X.Y z"]');
});

Deno.test("quotePath() keeps a long path whole and escapes control characters", () => {
  const path = `/home/user/${"some/rather/long/directory/".repeat(8)}mcpstead.yaml`;
  equal(quotePath(path), `'${path}'`);
  equal(quotePath("/tmp/a\nb"), "'/tmp/a\\nb'");
});

Deno.test("quote() escapes control characters and cuts long values", () => {
  equal(quote("a\tb\n"), "'a\\tb\\n'");
  equal(quote("\u0007"), "'\\u0007'");
  equal(quote("x".repeat(100)), `'${"x".repeat(57)}...'`);
});

Deno.test("parseHost() keeps IP literals and host names, strips IPv6 brackets", () => {
  equal(parseHost("127.0.0.1"), "127.0.0.1");
  equal(parseHost("::"), "::");
  equal(parseHost("[::]"), "::");
  equal(parseHost("[2001:db8::1]"), "2001:db8::1");
  equal(parseHost("my-host.example"), "my-host.example");
  equal(parseHost(""), undefined);
  equal(parseHost("256.1.1.1"), undefined);
  equal(parseHost("[localhost]"), undefined);
  equal(parseHost("under_score"), undefined);
  equal(parseHost("a".repeat(64)), undefined);
});

Deno.test("parseOrigin() accepts scheme://host[:port] and suggests the origin of other URLs", () => {
  deepEqual(parseOrigin("https://a.example"), { origin: "https://a.example" });
  deepEqual(parseOrigin("http://A.example:8080"), { origin: "http://a.example:8080" });
  deepEqual(parseOrigin("https://a.example:443"), { suggestion: "https://a.example" });
  deepEqual(parseOrigin("https://a.example/app"), { suggestion: "https://a.example" });
  deepEqual(parseOrigin("null"), { suggestion: undefined });
  deepEqual(parseOrigin("chrome-extension://abc"), { suggestion: undefined });
});

Deno.test("isHttpUrl() accepts only absolute http: and https: URLs", () => {
  equal(isHttpUrl("http://127.0.0.1:3000/mcp"), true);
  equal(isHttpUrl("https://[::1]/mcp"), true);
  equal(isHttpUrl("http:/one-slash"), false);
  equal(isHttpUrl("ws://a/mcp"), false);
  equal(isHttpUrl("https://"), false);
});

Deno.test("redactUrl() hides the user name, the password and every query value", () => {
  equal(redactUrl("https://user:pw@host/x"), "https://***@host/x");
  equal(redactUrl("https://t0ken@host/x"), "https://***@host/x");
  equal(redactUrl("https://host/x?a=b@c"), "https://host/x?a=***");
  equal(redactUrl("https://host/x?api_key=s3&api_key=t&q"), "https://host/x?api_key=***&q=***");
  equal(redactUrl("https://host/x#frag"), "https://host/x#frag");
  equal(redactUrl("http://u:p@[::1:/x?k=v"), "http://***@[::1:/x?k=***");
  equal(redactUrl("not a url"), "not a url");
});

Deno.test("parseLogLevel() reads levels and EnvFilter directives like Rust mcpstead", () => {
  deepEqual(parseLogLevel("mcpstead=debug,info"), { level: "debug" });
  deepEqual(parseLogLevel("info,mcpstead=warn"), { level: "warn" });
  deepEqual(parseLogLevel(" warn , hyper=info "), { level: "warn" });
  deepEqual(parseLogLevel("mcpstead"), { level: "trace" });
  deepEqual(parseLogLevel("mcpstead::upstream=trace,error"), { level: "error" });
  deepEqual(parseLogLevel("off"), { level: "error" });
  deepEqual(parseLogLevel("hyper=off"), { level: "info" });
  deepEqual(parseLogLevel(""), { level: "info" });
  deepEqual(parseLogLevel("hyper"), { unknownWord: "hyper" });
  deepEqual(parseLogLevel("mcpstead=noisy"), { unknownWord: "noisy" });
  deepEqual(parseLogLevel("constructor"), { unknownWord: "constructor" });
});

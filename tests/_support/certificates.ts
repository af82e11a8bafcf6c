/**
 * Throw-away certificates for TLS tests, made with openssl for each run.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TlsFiles } from "../fixtures/listen.ts";

/**
 * A CA and a certificate for 127.0.0.1 it signed, valid for a day, in a new directory (`ca` is
 * the CA's path; the directory also holds `leaf.pem` and `leaf.key`).
 */
export async function makeCertificates(openssl: string): Promise<TlsFiles & { ca: string }> {
  const dir = await Deno.makeTempDir();
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(openssl, { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    "/CN=mcpstead test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  await run("req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", "leaf.key", "-out", "leaf.csr");
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
    "-out",
    "leaf.pem",
  );
  return {
    ca: `${dir}/ca.pem`,
    cert: await Deno.readTextFile(`${dir}/leaf.pem`),
    key: await Deno.readTextFile(`${dir}/leaf.key`),
  };
}

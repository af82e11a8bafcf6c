/**
 * A TLS front for a loopback HTTP server, with the test CA's certificate for `localhost` and
 * `127.0.0.1` (tests/fixtures/tls): it terminates TLS and pipes the bytes to the target port.
 * With `alpn: ["h2"]` it is an upstream that speaks only HTTP/2 (the target is a `Deno.serve`,
 * which takes HTTP/2 with prior knowledge).
 *
 * @module
 */

const DIR = new URL("../fixtures/tls/", import.meta.url);

/** The test CA, as `tls_ca_file` or `caCerts`. */
export const TEST_CA_FILE: string = new URL("ca.pem", DIR).pathname;

/** A running TLS front. */
export interface TlsFront extends AsyncDisposable {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Terminates TLS on 127.0.0.1 (a free port) and pipes each connection to `targetPort`. */
export function startTlsFront(targetPort: number, alpn?: string[]): TlsFront {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(new URL("server.pem", DIR)),
    key: Deno.readTextFileSync(new URL("server.key", DIR)),
    ...(alpn ? { alpnProtocols: alpn } : {}),
  });
  const pipes = new Set<Promise<void>>();
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const pipe = async (front: Deno.TlsConn) => {
    conns.add(front);
    try {
      await front.handshake();
      const back = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      conns.add(back);
      await Promise.all([
        front.readable.pipeTo(back.writable).catch(() => {}),
        back.readable.pipeTo(front.writable).catch(() => {}),
      ]);
    } catch {
      // A refused handshake (no common ALPN protocol) ends here.
    } finally {
      try {
        front.close();
      } catch {
        // Closed by the pipe.
      }
    }
  };
  const accepting = (async () => {
    for await (const front of listener) {
      accepted++;
      const piped = pipe(front);
      pipes.add(piped);
      piped.finally(() => pipes.delete(piped));
    }
  })();
  const close = async () => {
    listener.close();
    await accepting;
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(pipes);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

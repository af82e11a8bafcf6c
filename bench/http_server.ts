/**
 * The gateway's own HTTP/1.1 server against `Deno.serve`, serving the same minimal MCP upstream
 * (`bench/fast_upstream.ts`, tiny JSON POSTs) to 32 kept-alive connections from the load
 * generator, in alternating rounds; prints calls/s, latency and server CPU per call.
 *
 * ```sh
 * deno run -A bench/http_server.ts [--rounds 6] [--clients 32] [--duration-ms 3000]
 * ```
 *
 * @module
 */
import { readFlags } from "./fast_mcp.ts";
import { callParams, checked, type PairedPlan, quiet, rotate } from "./load_paired.ts";
import { stopAll } from "./procs.ts";
import { startFastUpstream, startLoadgen } from "./services.ts";
import { median, round, summarize } from "./stats.ts";

const encoder = new TextEncoder();
const print = (line: string) => Deno.stdout.writeSync(encoder.encode(`${line}\n`));
const flags = readFlags(Deno.args);
const rounds = Number(flags.get("rounds") ?? "6");
const clients = Number(flags.get("clients") ?? "32");
const durationMs = Number(flags.get("duration-ms") ?? "3000");
const plan: PairedPlan = {
  rounds,
  seqWarmup: 0,
  seqCalls: 0,
  clients,
  warmupMs: 500,
  durationMs,
  quietMaxMs: 10_000,
  log: (text) => Deno.stderr.writeSync(encoder.encode(`bench: ${text}\n`)),
};

const SERVERS = ["deno", "mcpstead"] as const;
const lg = await startLoadgen();
try {
  const ups = {
    deno: await startFastUpstream({ server: "deno", name: "Deno.serve" }),
    mcpstead: await startFastUpstream({ server: "mcpstead", name: "mcpstead server" }),
  };
  const rows: Record<string, { rps: number[]; cpuUs: number[]; latency: number[] }> = {};
  for (const name of SERVERS) rows[name] = { rps: [], cpuUs: [], latency: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of rotate(SERVERS, r)) {
      await quiet(plan);
      const up = ups[name];
      const result = checked(
        await lg.run({
          op: "calls",
          url: up.url,
          clients,
          method: "tools/call",
          params: callParams("tool_0"),
          warmupMs: plan.warmupMs,
          durationMs,
          watch: { server: up.proc.pid },
        }),
        name,
      );
      const row = rows[name]!;
      row.rps.push(result.completed / (result.windowMs / 1000));
      row.cpuUs.push((result.cpuSeconds!.server! / result.completed) * 1e6);
      for (const ms of result.latenciesMs ?? []) row.latency.push(ms);
    }
  }
  print(
    `| server (${clients} connections, ${rounds} rounds × ${durationMs} ms) | calls/s | p50 / p99 (ms) | server CPU per call (µs) |`,
  );
  print("|---|---:|---:|---:|");
  for (const name of SERVERS) {
    const row = rows[name]!;
    const latency = summarize(row.latency);
    print(
      `| ${name === "deno" ? "Deno.serve" : "mcpstead HttpServer"} | ${
        Math.round(median(row.rps))
      } | ${round(latency.p50, 2)} / ${round(latency.p99, 2)} | ${
        round(median(row.cpuUs), 1)
      } (rounds: ${row.cpuUs.map((v) => round(v, 1)).join(", ")}) |`,
    );
  }
} finally {
  await stopAll();
}

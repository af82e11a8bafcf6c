/**
 * Process bookkeeping for stdio tests, read from /proc: which processes carry a marker in their
 * command line, and which belong to a process group.
 *
 * @module
 */

import { TEST_CONFIG } from "./process.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const STDIO_FIXTURE = new URL("../fixtures/stdio_server.ts", import.meta.url).pathname;

/** The Deno cache of this run, given to children whose environment is cleared. */
export const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/** A YAML `servers[]` entry running the stdio fixture with a unique marker in its arguments. */
export function stdioUpstream(
  name: string,
  options: { marker?: string; args?: string[]; extra?: string } = {},
): string {
  const args = [
    "--name",
    name,
    ...(options.marker ? ["--marker", options.marker] : []),
    ...(options.args ?? []),
  ];
  return denoUpstream(name, STDIO_FIXTURE, args, options.extra);
}

/**
 * A YAML `servers[]` entry running `deno run -A <script> <args>` from the repository root over
 * stdio, with the Deno cache of this run; `extra` is appended to the entry.
 */
export function denoUpstream(name: string, script: string, args: string[], extra = ""): string {
  return `  - name: ${name}\n    command: ${JSON.stringify(Deno.execPath())}\n    args: ${
    JSON.stringify(["run", "--config", TEST_CONFIG, "-A", script, ...args])
  }\n` +
    `    cwd: ${JSON.stringify(ROOT)}\n    env:\n      DENO_DIR: ${
      JSON.stringify(DENO_DIR)
    }\n      NO_COLOR: "1"\n${extra}`;
}

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  cmdline: string;
}

/** Every process visible in /proc. */
export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      out.push({
        pid: Number(entry.name),
        state: fields[0]!,
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        cmdline,
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Live (not zombie) processes whose command line contains `marker`. */
export function withMarker(marker: string): Proc[] {
  return processes().filter((p) => p.state !== "Z" && p.cmdline.includes(marker));
}

/** Processes (zombies included) in process group `pgrp`. */
export function inGroup(pgrp: number): Proc[] {
  return processes().filter((p) => p.pgrp === pgrp);
}

/**
 * The given pids that are left as zombies (exited, never reaped). Only a test's own children are
 * checked: another test running in parallel may have a child that exited a moment ago.
 */
export function unreaped(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return false;
    }
  });
}

/**
 * Runs the Python MCP SDK 2.x client (`tests/_support/py_client.py`) from a venv outside the
 * repository: `$MCPSTEAD_PY_MCP_VENV`, or `~/.cache/mcpstead-tests/py-mcp`. `.ci/run` creates it
 * when missing; by hand:
 *
 * ```sh
 * python3 -m venv ~/.cache/mcpstead-tests/py-mcp
 * ~/.cache/mcpstead-tests/py-mcp/bin/pip install mcp==2.3.0
 * ```
 *
 * Tests that need it call {@linkcode pythonMcp} at load time and pass `ignore` from it: without
 * the venv they are ignored with a notice, unless CI is set, where they fail.
 *
 * @module
 */

import { ciIsSet } from "./tools.ts";

/** The Python SDK version `.ci/run` installs. */
export const PY_MCP_VERSION = "2.3.0";

const SCRIPT = new URL("./py_client.py", import.meta.url).pathname;
const RUN_TIMEOUT_MS = 30_000;

/** One step of a {@linkcode PyPlan} (see `py_client.py`). */
export type PyStep =
  | { op: "list_tools" }
  | { op: "call_tool"; name: string; arguments?: Record<string, unknown> }
  | { op: "read_resource"; uri: string }
  | { op: "get_prompt"; name: string; arguments?: Record<string, string> }
  | {
    op: "complete";
    ref: { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string };
    argument: { name: string; value: string };
  };

/** What the Python client does: its `mode` ("auto" probes `server/discover`) and its steps. */
export interface PyPlan {
  mode?: "auto" | "legacy" | "2026-07-28";
  steps: PyStep[];
}

/** The outcome of one step: the result as JSON (aliases, no nulls), or the error's text. */
export interface PyStepResult {
  op: PyStep["op"];
  result?: Record<string, unknown>;
  error?: string;
  /** Progress values seen during a `call_tool`. */
  progress?: number[];
}

/** What `py_client.py` printed for one URL. */
export interface PyRun {
  url: string;
  /** The negotiated protocol version (absent when it could not connect). */
  protocolVersion?: string;
  /** One outcome per step (absent when it could not connect). */
  results?: PyStepResult[];
  /** Why it could not connect. */
  error?: string;
}

/** Where the venv's python is, or why it cannot be used, and whether tests must then be ignored. */
export interface PythonMcp {
  /** The venv's python, when `import mcp` works there. */
  python?: string;
  /** Why it cannot be used. */
  missing?: string;
  /** True when it is missing and CI is not set (the test is ignored, with a notice on stderr). */
  ignore: boolean;
}

/** Finds the venv's python and checks that it imports `mcp` 2.x. */
export async function pythonMcp(): Promise<PythonMcp> {
  const venv = Deno.env.get("MCPSTEAD_PY_MCP_VENV") ??
    `${Deno.env.get("HOME") ?? ""}/.cache/mcpstead-tests/py-mcp`;
  const python = `${venv}/bin/python`;
  let missing: string | undefined;
  try {
    const { success, stdout } = await new Deno.Command(python, {
      args: ["-c", "import importlib.metadata as m; print(m.version('mcp'))"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const version = new TextDecoder().decode(stdout).trim();
    if (!success) missing = `${python} cannot import mcp`;
    else if (!version.startsWith("2.")) missing = `${python} has mcp ${version}, not 2.x`;
  } catch (error) {
    missing = `cannot run ${python}: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (missing === undefined) return { python, ignore: false };
  const ignore = !ciIsSet();
  if (ignore) {
    Deno.stderr.writeSync(new TextEncoder().encode(
      `Python SDK tests ignored: ${missing}. Create the venv with: python3 -m venv ${venv} && ` +
        `${venv}/bin/pip install mcp==${PY_MCP_VERSION} (set CI=1 to fail instead)\n`,
    ));
  }
  return { missing, ignore };
}

/** The venv's python; throws why it is missing (reached only when CI is set, or by mistake). */
export function requirePython(found: PythonMcp): string {
  if (found.python === undefined) {
    throw new Error(`Cannot run the Python SDK client (required when CI is set): ${found.missing}`);
  }
  return found.python;
}

/**
 * Runs `plan` against each of `urls` at once, in one python process (its start costs about a
 * second of CPU); throws with its stderr when the process fails.
 */
export async function runPyClient(
  python: string,
  urls: readonly string[],
  plan: PyPlan,
): Promise<PyRun[]> {
  const { success, stdout, stderr } = await new Deno.Command(python, {
    args: [SCRIPT, JSON.stringify(plan), ...urls],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  if (!success) throw new Error(decoder.decode(stderr).trim().split("\n").slice(-3).join("\n"));
  return JSON.parse(decoder.decode(stdout)) as PyRun[];
}

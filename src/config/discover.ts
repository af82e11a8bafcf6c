/** Finding the config file: `--config`, then MCPSTEAD_CONFIG, then the usual places (DESIGN §5). */

/** Inputs of {@linkcode resolveConfigPath}: the flag, and the process seams it reads. */
export interface ConfigPathInputs {
  /** The `--config` flag, if given. */
  flag?: string;
  /** Reads an environment variable (MCPSTEAD_CONFIG). */
  env: (name: string) => string | undefined;
  /** Whether a file exists at a path. */
  exists: (path: string) => boolean;
  /** The home directory, for `~/.config/mcpstead/config.yaml`. */
  home?: string;
}

/** Which rule found the config path. */
export type ConfigPathSource = "flag" | "env" | "default";

/**
 * Picks the config file: the `--config` flag, else MCPSTEAD_CONFIG, else the first existing of
 * `./mcpstead.yaml`, `~/.config/mcpstead/config.yaml` and `/etc/mcpstead/config.yaml`. An explicit
 * path is returned even when it does not exist (loading then says so); undefined when none fits.
 */
export function resolveConfigPath(
  inputs: ConfigPathInputs,
): { path: string; source: ConfigPathSource } | undefined {
  if (inputs.flag !== undefined) return { path: inputs.flag, source: "flag" };
  const fromEnv = inputs.env("MCPSTEAD_CONFIG");
  // An empty variable counts as unset, as shells and most tools treat it.
  if (fromEnv !== undefined && fromEnv !== "") return { path: fromEnv, source: "env" };
  for (const path of defaultPaths(inputs.home)) {
    if (inputs.exists(path)) return { path, source: "default" };
  }
  return undefined;
}

function defaultPaths(home: string | undefined): string[] {
  const paths = ["./mcpstead.yaml"];
  if (home !== undefined && home !== "") {
    paths.push(`${home.replace(/\/+$/, "")}/.config/mcpstead/config.yaml`);
  }
  paths.push("/etc/mcpstead/config.yaml");
  return paths;
}

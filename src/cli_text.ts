/**
 * The texts of the command line: the `--help` page (man-style sections) and the shell completion
 * scripts printed by `mcpstead completions bash|zsh|fish`. Pure strings, so tests can check them
 * without running the program.
 *
 * @module
 */
import { quote } from "./config/format.ts";
import { closest } from "./config/suggest.ts";

/** The subcommands, in help order; serving is the default when none is given. */
export const SUBCOMMANDS: readonly { name: string; summary: string }[] = [
  { name: "serve", summary: "run the gateway (the default when no command is given)" },
  { name: "check", summary: "validate the config and print the upstreams and Deno flags it needs" },
  {
    name: "openapi",
    summary: "connect to the upstreams and print the REST API's OpenAPI document",
  },
  {
    name: "import",
    summary: 'print mcpstead YAML for a Claude Desktop / Cursor "mcpServers" file',
  },
  { name: "completions", summary: "print a completion script for bash, zsh or fish" },
];

/** The long options, in help order. */
export const OPTIONS: readonly { long: string; short?: string; arg?: string; summary: string }[] = [
  { long: "--config", short: "-c", arg: "<path>", summary: "config file (YAML)" },
  { long: "--connect", summary: "check: start or reach every upstream and list its tools" },
  { long: "--watch", summary: "reload when the config file changes" },
  { long: "--log-format", arg: "<format>", summary: "auto, json or pretty" },
  { long: "--version", short: "-V", summary: 'print "mcpstead <version>" and exit' },
  { long: "--help", short: "-h", summary: "print this help and exit" },
];

/**
 * The usage message for an error of `node:util` parseArgs: the option named, quoted and
 * escaped, a guess for a misspelt one, and none of Node's advice about `--`.
 */
export function parseArgsMessage(error: { code?: string; message: string }): string {
  const named = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  const long = /--[\w-]+/.exec(named)?.[0] ?? named;
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const guess = closest(named.replace(/^-+/, ""), OPTIONS.map((o) => o.long.slice(2)));
    return `unknown option ${quote(named)}${guess ? ` (did you mean '--${guess}'?)` : ""}`;
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /argument missing$/.test(error.message)
      ? `${long} needs a value`
      : `${long} takes no value`;
  }
  return error.message;
}

/** The shells `mcpstead completions` writes scripts for. */
export const SHELLS: readonly string[] = ["bash", "zsh", "fish"];

/** The `--help` page for `version`, in the sections of a man page. */
export function helpText(version: string): string {
  return `NAME
  mcpstead ${version} - one MCP endpoint in front of many MCP servers

SYNOPSIS
  mcpstead [serve] [--config <path>] [--watch] [--log-format auto|json|pretty]
  mcpstead check [--config <path>] [--connect]
  mcpstead openapi [--config <path>]
  mcpstead import <client.json>
  mcpstead completions bash|zsh|fish
  mcpstead --version | --help

COMMANDS
  serve                run the gateway (the default when no command is given)
  check                validate the config and check that every stdio command is on PATH; print
                       the upstreams that would run and the Deno permission flags the config
                       needs; with --connect, start or reach every upstream and print a table:
                       server, transport, era, tools, time, error
  openapi              connect to the upstreams and print the OpenAPI 3.1 document of the REST
                       API (POST /api/tools/<name>) for every tool, as GET /openapi.json does
  import <client.json> print mcpstead YAML for a Claude Desktop / Cursor "mcpServers" file
  completions <shell>  print a completion script: bash, zsh or fish, e.g.
                       mcpstead completions bash > /etc/bash_completion.d/mcpstead

OPTIONS
  -c, --config <path>   config file (YAML)
      --connect         check: start or reach every upstream (exit 1 if one fails)
      --watch           reload when the config file changes (SIGHUP and POST /-/reload always work)
      --log-format <f>  auto (pretty on a terminal, JSON lines otherwise), json or pretty
  -V, --version         print "mcpstead <version>" and exit
  -h, --help            print this help and exit

ENVIRONMENT
  MCPSTEAD_CONFIG        config path, when --config is not given
  MCPSTEAD_BEARER_TOKEN  the downstream token when mcp.auth.mode is bearer
  HOME                   for ~/.config/mcpstead/config.yaml, when searching for the config
  PATH                   given to stdio upstreams (unless inherit_env: true)
  LOG_TOKENS, LOG_STREAM read by the YAML parser (grant them in sandboxed runs)
  (any name)             variables named by token_env or key_env, or used as \${VAR} in headers
                         and env

FILES
  Config discovery, first found wins: --config, $MCPSTEAD_CONFIG, ./mcpstead.yaml,
  ~/.config/mcpstead/config.yaml, /etc/mcpstead/config.yaml

ROUTES
  POST|GET|DELETE /mcp   the MCP endpoint (Streamable HTTP)
  GET /health            upstream status as JSON
  GET /metrics           Prometheus metrics
  GET /ui                dashboard
  POST /-/reload         reload the config (also SIGHUP): an admin, Content-Type
                         application/json and the body {}; 400 with the reason on a bad file

FROM A CLONE
  Without an installed binary, run the same commands from the repository with
  deno run -A main.ts <command> ..., e.g. deno run -A main.ts check --config mcpstead.yaml

EXIT STATUS
  Exit codes: 0 ok, 1 config or startup error (also a missing Deno permission, named with the
  flag to add), 2 usage error.
`;
}

/** The completion script for `shell`, or undefined for a shell without one. */
export function completionScript(shell: string): string | undefined {
  switch (shell) {
    case "bash":
      return BASH;
    case "zsh":
      return ZSH;
    case "fish":
      return FISH;
    default:
      return undefined;
  }
}

const names = SUBCOMMANDS.map((c) => c.name).join(" ");
const serveFlags = OPTIONS.filter((o) => o.long !== "--connect").map((o) => o.long).join(" ");

const BASH = `# bash completion for mcpstead
# Install: mcpstead completions bash > /etc/bash_completion.d/mcpstead
#      or: source <(mcpstead completions bash)
_mcpstead() {
  local cur prev cmd="" i opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    --config|-c|import) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --log-format) COMPREPLY=($(compgen -W "auto json pretty" -- "$cur")); return 0 ;;
    completions) COMPREPLY=($(compgen -W "${SHELLS.join(" ")}" -- "$cur")); return 0 ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${SUBCOMMANDS.map((c) => c.name).join("|")}) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
      ""|serve) opts="${serveFlags}" ;;
      check) opts="--config --connect --help" ;;
      openapi) opts="--config --help" ;;
      *) opts="--help" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${names}" -- "$cur"))
  fi
  return 0
}
complete -o default -F _mcpstead mcpstead
`;

const ZSH = `#compdef mcpstead
# zsh completion for mcpstead
# Install: mcpstead completions zsh > "\${fpath[1]}/_mcpstead"   (or: source <(mcpstead completions zsh))
_mcpstead() {
  local context state state_descr line
  typeset -A opt_args
  local -a commands
  commands=(
${SUBCOMMANDS.map((c) => `    '${c.name}:${c.summary.replaceAll("'", "")}'`).join("\n")}
  )
  _arguments -C \\
    '(-c --config)'{-c,--config}'[config file (YAML)]:config file:_files' \\
    '--watch[reload when the config file changes]' \\
    '--log-format[log format]:format:(auto json pretty)' \\
    '(- *)'{-V,--version}'[print the version and exit]' \\
    '(- *)'{-h,--help}'[print the help and exit]' \\
    '1: :->command' \\
    '*:: :->argument' && return 0
  case $state in
    command) _describe -t commands 'mcpstead command' commands ;;
    argument)
      case $words[1] in
        import) _files ;;
        completions) _values 'shell' ${SHELLS.join(" ")} ;;
        check) _arguments '(-c --config)'{-c,--config}'[config file (YAML)]:config file:_files' \\
          '--connect[start or reach every upstream and list its tools]' ;;
        openapi) _arguments '(-c --config)'{-c,--config}'[config file (YAML)]:config file:_files' ;;
        serve) _arguments '(-c --config)'{-c,--config}'[config file (YAML)]:config file:_files' \\
          '--watch[reload when the config file changes]' \\
          '--log-format[log format]:format:(auto json pretty)' ;;
      esac
      ;;
  esac
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _mcpstead "$@"
else
  compdef _mcpstead mcpstead
fi
`;

const FISH = `# fish completion for mcpstead
# Install: mcpstead completions fish > ~/.config/fish/completions/mcpstead.fish
complete -c mcpstead -f
${
  SUBCOMMANDS.map((c) =>
    `complete -c mcpstead -n "not __fish_seen_subcommand_from ${names}" -a ${c.name} -d '${
      c.summary.replaceAll("'", "")
    }'`
  ).join("\n")
}
complete -c mcpstead -n "not __fish_seen_subcommand_from import completions" -s c -l config -r -F -d 'config file (YAML)'
complete -c mcpstead -n "not __fish_seen_subcommand_from check openapi import completions" -l watch -d 'reload when the config file changes'
complete -c mcpstead -n "not __fish_seen_subcommand_from check openapi import completions" -l log-format -x -a 'auto json pretty' -d 'log format'
complete -c mcpstead -n "__fish_seen_subcommand_from check" -l connect -d 'start or reach every upstream and list its tools'
complete -c mcpstead -n "not __fish_seen_subcommand_from ${names}" -s V -l version -d 'print the version and exit'
complete -c mcpstead -s h -l help -d 'print the help and exit'
complete -c mcpstead -n "__fish_seen_subcommand_from completions" -x -a '${SHELLS.join(" ")}'
complete -c mcpstead -n "__fish_seen_subcommand_from import" -F
`;

/**
 * A stdio child's stderr as log lines a person can read. Children write for a terminal: colour
 * codes, progress bars redrawn with carriage returns, and on a first start hundreds of download
 * lines (a Deno child logged 113 `Download …` lines for one start). Control sequences are
 * removed, a redrawn line is kept as a terminal would show it last, and chatter is collapsed:
 * after the first line of a run of download/progress lines, or of repeats of one line, the run
 * goes to debug, and one info line says how many lines were held back.
 */
import type { Logger } from "../log.ts";

// CSI (colours, cursor moves), OSC (titles, links), other ESC sequences, C0 and C1 controls.
const CONTROL =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

// What package managers and runtimes print while fetching and installing (deno, npm, uv, pip).
const PROGRESS =
  /^(?:download(?:ing|ed)?|fetch(?:ing|ed)?|initializ(?:e|ing)|resolv(?:e|ed|ing)|install(?:ing|ed)?|extract(?:ing|ed)?|unpack(?:ing|ed)?|prepar(?:e|ed|ing)|collecting|progress)\b|\b\d{1,3}(?:\.\d+)?\s?%|\[[=#>.\- ]{6,}\]/i;

/** The longest line logged; a child may write megabytes without a newline. */
const MAX_LINE = 2000;

/** Returns `text` without terminal control sequences, as a terminal would show it last. */
export function stripControls(text: string): string {
  const shown = text.split("\r").findLast((part) => part.trim() !== "") ?? "";
  return shown.replace(CONTROL, "").trimEnd();
}

/** The stderr of one child, logged line by line. */
export class ChildStderr {
  readonly #log: Logger;
  #previous: string | undefined;
  #previousProgress = false;
  #held = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Logs one line of stderr (without its newline). */
  line(raw: string): void {
    let line = stripControls(raw);
    if (line === "") return;
    if (line.length > MAX_LINE) {
      line = `${line.slice(0, MAX_LINE)}… (${line.length - MAX_LINE} more characters)`;
    }
    const progress = PROGRESS.test(line);
    if (line === this.#previous || (progress && this.#previousProgress)) {
      this.#held++;
      this.#log.debug("upstream stderr", { line });
    } else {
      this.flush();
      this.#log.info("upstream stderr", { line });
    }
    this.#previous = line;
    this.#previousProgress = progress;
  }

  /** Says how many lines were held back since the last line shown at info, if any. */
  flush(): void {
    if (this.#held === 0) return;
    this.#log.info("upstream stderr: similar lines (progress or repeats) logged at debug only", {
      lines: this.#held,
    });
    this.#held = 0;
  }
}

import { formatBytes } from "../byte-size.js";

export interface ProgressState {
  modulesDone: number;
  modulesTotal: number;
  wavesDone: number;
  wavesTotal: number;
  bytesGenerated: number;
  memoryLine: string;
}

/**
 * Progress over generation steps on stderr. On a TTY: a bar and a live memory line redrawn in
 * place. Otherwise (CI logs, `--compare` children): a plain line at each 10% and at the end, so
 * logs stay readable.
 */
export interface ProgressDisplay {
  update(state: ProgressState): void;
  /** A message printed above the bar (e.g. the watchdog's log line). */
  log(line: string): void;
  done(): void;
}

const BAR_WIDTH = 30;

export function createProgressDisplay(stream: NodeJS.WriteStream, label = ""): ProgressDisplay {
  const prefix = label ? `[${label}] ` : "";
  if (stream.isTTY) return createTtyProgress(stream, prefix);
  let lastDecile = -1;
  return {
    update(state) {
      const fraction = state.modulesTotal === 0 ? 1 : state.modulesDone / state.modulesTotal;
      const decile = Math.floor(fraction * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      stream.write(`${prefix}${describe(state)}  ${state.memoryLine}\n`);
    },
    log(line) {
      stream.write(`${prefix}${line}\n`);
    },
    done() {},
  };
}

function describe(state: ProgressState): string {
  return `generated ${state.modulesDone}/${state.modulesTotal} modules, wave ${state.wavesDone}/${state.wavesTotal}, ${formatBytes(state.bytesGenerated)}`;
}

function createTtyProgress(stream: NodeJS.WriteStream, prefix: string): ProgressDisplay {
  let drawnLines = 0;
  let last: ProgressState | null = null;
  const clear = () => {
    if (drawnLines === 0) return;
    // Move up over what we drew and erase it: the bar and the memory line.
    stream.write(`\x1b[${drawnLines}F\x1b[J`);
    drawnLines = 0;
  };
  const draw = (state: ProgressState) => {
    const fraction = state.modulesTotal === 0 ? 1 : state.modulesDone / state.modulesTotal;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    // A line wider than the terminal wraps, and the cursor-up redraw would then leave debris.
    const fit = (line: string) => line.slice(0, Math.max(20, (stream.columns ?? 120) - 1));
    stream.write(
      `${fit(`${prefix}${bar} ${percent}  ${describe(state)}`)}\n${fit(`${prefix}${state.memoryLine}`)}\n`,
    );
    drawnLines = 2;
  };
  return {
    update(state) {
      last = state;
      clear();
      draw(state);
    },
    log(line) {
      clear();
      stream.write(`${prefix}${line}\n`);
      if (last) draw(last);
    },
    done() {
      // Leave the final bar on screen.
      drawnLines = 0;
    },
  };
}

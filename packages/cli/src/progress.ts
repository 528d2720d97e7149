/**
 * Progress of long work, always on stderr so stdout stays the report (`--json` output is parsed
 * by scripts). On a terminal: one bar redrawn in place, at most every `redrawMs`. Otherwise (CI
 * logs, pipes): a plain line when a phase starts, every `intervalMs` while it runs, and when it
 * ends, so a log shows the work is alive without drowning in redraws.
 */
export interface Progress {
  /** Starts a phase; `total` undefined when the amount of work is not known up front. */
  phase(label: string, total: number | undefined, unit: string): void;
  /** Units done so far in the current phase, and an optional short detail (bytes, rate). */
  update(done: number, detail?: string): void;
  /** A message printed above the bar. */
  log(line: string): void;
  /** Ends the current phase (prints its final line). */
  done(): void;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Plain mode: at most one line per this many ms while a phase runs. @default 5000 */
  intervalMs?: number;
  /** Terminal mode: at most one redraw per this many ms. @default 100 */
  redrawMs?: number;
  now?: () => number;
}

const barWidth = 28;

interface PhaseState {
  label: string;
  total: number | undefined;
  unit: string;
  done: number;
  detail: string;
  startedAtMs: number;
}

function describe(state: PhaseState, nowMs: number): string {
  const counted =
    state.total === undefined
      ? `${state.done} ${state.unit}`
      : `${state.done}/${state.total} ${state.unit}`;
  const seconds = ((nowMs - state.startedAtMs) / 1000).toFixed(1);
  return `${state.label}: ${counted}${state.detail ? `, ${state.detail}` : ""} (${seconds} s)`;
}

export function createProgress(stream: ProgressStream, options: ProgressOptions = {}): Progress {
  const now = options.now ?? Date.now;
  return stream.isTTY
    ? createBarProgress(stream, options.redrawMs ?? 100, now)
    : createLineProgress(stream, options.intervalMs ?? 5000, now);
}

function createLineProgress(
  stream: ProgressStream,
  intervalMs: number,
  now: () => number,
): Progress {
  let state: PhaseState | undefined;
  let lastLineAtMs = 0;
  let dirty = false;
  const line = () => {
    if (!state) return;
    stream.write(`${describe(state, now())}\n`);
    lastLineAtMs = now();
    dirty = false;
  };
  const finish = () => {
    if (state && dirty) line();
    state = undefined;
  };
  return {
    phase(label, total, unit) {
      finish();
      state = { label, total, unit, done: 0, detail: "", startedAtMs: now() };
      line();
    },
    update(done, detail) {
      if (!state) return;
      state.done = done;
      if (detail !== undefined) state.detail = detail;
      dirty = true;
      if (now() - lastLineAtMs >= intervalMs) line();
    },
    log(text) {
      stream.write(`${text}\n`);
    },
    done: finish,
  };
}

function createBarProgress(stream: ProgressStream, redrawMs: number, now: () => number): Progress {
  let state: PhaseState | undefined;
  let drawn = false;
  let lastDrawAtMs = 0;
  // A pty without a size (script, some CI runners) reports 0 columns.
  const width = () => (stream.columns !== undefined && stream.columns > 0 ? stream.columns : 100);
  const fit = (text: string) => text.slice(0, Math.max(20, width() - 1));
  const draw = () => {
    if (!state) return;
    const fraction =
      state.total === undefined || state.total === 0
        ? undefined
        : Math.min(1, state.done / state.total);
    const bar =
      fraction === undefined
        ? ""
        : `${"█".repeat(Math.round(fraction * barWidth))}${"░".repeat(barWidth - Math.round(fraction * barWidth))} ${`${Math.floor(fraction * 100)}%`.padStart(4)}  `;
    // \r + erase line: the bar is one line, redrawn in place; wider than the terminal it would wrap.
    stream.write(`\r\x1b[2K${fit(`${bar}${describe(state, now())}`)}`);
    drawn = true;
    lastDrawAtMs = now();
  };
  const clear = () => {
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };
  const finish = () => {
    if (state) {
      draw();
      stream.write("\n");
      drawn = false;
    }
    state = undefined;
  };
  return {
    phase(label, total, unit) {
      finish();
      state = { label, total, unit, done: 0, detail: "", startedAtMs: now() };
      draw();
    },
    update(done, detail) {
      if (!state) return;
      state.done = done;
      if (detail !== undefined) state.detail = detail;
      if (now() - lastDrawAtMs >= redrawMs) draw();
    },
    log(text) {
      clear();
      stream.write(`${text}\n`);
      draw();
    },
    done: finish,
  };
}

/** Reports nothing: for callers of the command functions that print their own progress. */
export const silentProgress: Progress = {
  phase() {},
  update() {},
  log() {},
  done() {},
};

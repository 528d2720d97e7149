/**
 * What every scenario hands back: the figure it prints (trials, failures, lost items) and enough
 * detail to tell what went wrong without rerunning it. The CLI turns a list of these into the
 * table on stdout and into docs/reliability.md.
 */
export interface ScenarioResult {
  /** Stable id, e.g. `crash-sqlite`. */
  id: string;
  /** One line a reader understands without the code. */
  title: string;
  /** Independent attempts made (kills, corrupted items, steps, puts, …). */
  trials: number;
  /** Trials whose outcome broke the promise (wrong output, untyped error, crash, …). */
  failures: number;
  /** Checkpoints, items or blobs that should exist and do not (or were duplicated). */
  lostItems: number;
  /** Short facts worth printing, e.g. "integrity_check ok 20/20". */
  notes: string[];
  /** The first few failure descriptions, verbatim. */
  failureDetails: string[];
  /** Set when the scenario could not run at all (e.g. Postgres unreachable). */
  skippedReason?: string;
  wallMs: number;
}

export function passed(result: ScenarioResult): boolean {
  return result.skippedReason === undefined && result.failures === 0 && result.lostItems === 0;
}

const maxFailureDetails = 12;

/** Accumulates one scenario's figures; `failure()` records instead of throwing so every trial runs. */
export class ScenarioRecorder {
  readonly #startedAt = performance.now();
  readonly result: ScenarioResult;

  constructor(id: string, title: string) {
    this.result = {
      id,
      title,
      trials: 0,
      failures: 0,
      lostItems: 0,
      notes: [],
      failureDetails: [],
      wallMs: 0,
    };
  }

  trial(): void {
    this.result.trials += 1;
  }

  failure(description: string): void {
    this.result.failures += 1;
    if (this.result.failureDetails.length < maxFailureDetails) {
      this.result.failureDetails.push(description);
    }
  }

  lost(count: number, description: string): void {
    if (count <= 0) return;
    this.result.lostItems += count;
    if (this.result.failureDetails.length < maxFailureDetails) {
      this.result.failureDetails.push(`lost ${count}: ${description}`);
    }
  }

  note(line: string): void {
    this.result.notes.push(line);
  }

  /** Runs one trial; an exception it throws is a failure of that trial, not of the scenario. */
  async check(label: string, body: () => Promise<void>): Promise<void> {
    this.trial();
    try {
      await body();
    } catch (error) {
      this.failure(`${label}: ${describeError(error)}`);
    }
  }

  skip(reason: string): ScenarioResult {
    this.result.skippedReason = reason;
    return this.finish();
  }

  finish(): ScenarioResult {
    this.result.wallMs = Math.round(performance.now() - this.#startedAt);
    const { id, trials, failures, lostItems, skippedReason } = this.result;
    const status = skippedReason
      ? `SKIPPED (${skippedReason})`
      : passed(this.result)
        ? "ok"
        : "FAILED";
    process.stderr.write(
      `[reliability] ${id}: trials=${trials} failures=${failures} lost=${lostItems} ${status}\n`,
    );
    return this.result;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === "string" ? `${code}: ` : ""}${error.message}`;
  }
  return String(error);
}

/** A failure the trial itself detected; thrown inside `check()`. */
export class TrialFailure extends Error {}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TrialFailure(message);
}

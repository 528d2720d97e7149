/**
 * The pool's own FIFO in front of piscina. Steps wait here, not in piscina's queue, so a step is
 * handed to piscina only when a fresh isolate is booted for it and the concurrency limit (which
 * memory pressure may lower at any time) allows it.
 */
export class StepQueue<Job> {
  readonly #waiting: Job[] = [];
  #running = 0;

  constructor(
    private readonly limit: () => number,
    private readonly canStart: () => boolean,
    private readonly start: (job: Job) => Promise<void>,
  ) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  push(job: Job): void {
    this.#waiting.push(job);
    this.pump();
  }

  /** Removes and returns every job still waiting (used by close and boot-failure handling). */
  drain(): Job[] {
    return this.#waiting.splice(0, this.#waiting.length);
  }

  pump(): void {
    while (this.#waiting.length > 0 && this.#running < this.limit() && this.canStart()) {
      const job = this.#waiting.shift() as Job;
      this.#running++;
      this.start(job).finally(() => {
        this.#running--;
        this.pump();
      });
    }
  }
}

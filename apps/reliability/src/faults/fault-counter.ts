/**
 * Counts the operations a layer performs and says when the planned one is due, the way SQLite's
 * own I/O-error tests work: a fault-free run counts the positions, then each position N is made
 * to fail in turn (once: the next operation succeeds again, as after a transient fault).
 */
export class FaultCounter {
  #count = 0;
  #failAt: number | undefined;
  #fired = false;

  /** Counts one operation; true when it is the one to fail. */
  due(): boolean {
    this.#count += 1;
    if (this.#failAt === undefined || this.#count !== this.#failAt) return false;
    this.#fired = true;
    return true;
  }

  /** Starts counting from zero; fails the `failAt`-th operation from now (undefined: none). */
  arm(failAt: number | undefined): void {
    this.#count = 0;
    this.#failAt = failAt;
    this.#fired = false;
  }

  get count(): number {
    return this.#count;
  }

  get fired(): boolean {
    return this.#fired;
  }
}

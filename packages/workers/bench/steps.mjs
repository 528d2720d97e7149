// The bench's step: a fixed amount of CPU work (xorshift rounds), so booting isolates on the
// same cores shows up as lost throughput instead of being hidden by a wall-clock wait. `| 0`
// keeps every value a 32-bit integer, so the loop compiles the same in a fresh isolate and a
// warm one (a stray heap number deoptimizes it in one and not the other).
export function spin({ iterations }) {
  let state = 0x2545f491 | 0;
  for (let round = 0; round < iterations; round++) {
    state = (state ^ (state << 13)) | 0;
    state = (state ^ (state >>> 17)) | 0;
    state = (state ^ (state << 5)) | 0;
  }
  return `spun ${iterations} rounds: ${state >>> 0}`;
}

// The queue bench's step: waits like a model call, then returns a small file.
export async function wait({ ms, n }) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `waited ${ms} ms (${n})\n`;
}

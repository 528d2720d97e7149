/**
 * node bench/instructions.mjs   (needs valgrind; BENCH_TURNS="100,600", BENCH_REPEATS=2)
 *
 * What the metrics add to a chat turn (put + getTuple), counted in CPU instructions by callgrind
 * rather than timed: a count does not move when other processes share the cores, so it can show a
 * 1% difference on a machine whose wall-clock noise is ten times that. Each run is its own
 * process (chat-turns-once.mjs); the instructions per turn are the difference between a long and
 * a short run of the same arm, divided by the turns between them, which cancels Node's start-up.
 * Each arm runs BENCH_REPEATS times: the spread between repeats is the method's own noise floor.
 * `--single-threaded` keeps V8's compiler and GC work on the counted thread in a fixed order.
 */
import { fileURLToPath } from "node:url";
import { instructionsPerTurn } from "./callgrind.mjs";

const [shortRun, longRun] = (process.env.BENCH_TURNS ?? "100,600").split(",").map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const script = fileURLToPath(new URL("./chat-turns-once.mjs", import.meta.url));

const perTurn = { off: [], on: [] };
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const mode of repeat % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
    const counted = instructionsPerTurn(
      script,
      (turns) => [String(turns), mode],
      [shortRun, longRun],
      mode,
    );
    perTurn[mode].push(counted);
    process.stderr.write(
      `${mode} #${repeat + 1}: ${(counted / 1e6).toFixed(3)} M instructions per turn\n`,
    );
  }
}
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const spread = (values) => (Math.max(...values) - Math.min(...values)) / mean(values);
const [off, on] = [mean(perTurn.off), mean(perTurn.on)];
console.log(
  `\ninstructions per chat turn (put + getTuple), callgrind, ${longRun} − ${shortRun} turns, ${repeats} runs per arm`,
);
console.log("| arm | M instructions per turn (each run) | mean | spread between runs |");
console.log("|---|---|---:|---:|");
for (const [mode, values] of Object.entries(perTurn)) {
  console.log(
    `| metrics ${mode} | ${values.map((value) => (value / 1e6).toFixed(3)).join(", ")} | ${(mean(values) / 1e6).toFixed(3)} | ${(spread(values) * 100).toFixed(2)}% |`,
  );
}
console.log(
  `added by the metrics: ${on >= off ? "+" : ""}${((on / off - 1) * 100).toFixed(2)}% instructions per turn`,
);

/**
 * node bench/chat-instructions.mjs [<baseline checkout>]   (needs valgrind; both checkouts built)
 *
 * "Chat put/getTuple no worse than before", counted in CPU instructions by callgrind instead of
 * timed: a count does not move when other processes share the cores, and each arm runs in its
 * own process, so the instance effects that a same-process latency bench shows between two
 * savers of one commit cannot enter. Instructions per turn = (long run − short run) / the turns
 * between them, which cancels start-up. Arms: the baseline (when given), this checkout with
 * compression off, with compression on (the default), and with compression on and encryption
 * (a random key each run). BENCH_TURNS="60,260", BENCH_REPEATS=2. Instructions leave out the
 * time SQLite waits on the disk, so a layer's ratio here is an upper bound of its ratio in time.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { instructionsPerTurn } from "../../metrics/bench/callgrind.mjs";

const baseline = process.argv[2];
const here = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const [shortRun, longRun] = (process.env.BENCH_TURNS ?? "60,260").split(",").map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const script = fileURLToPath(new URL("./chat-turns-once.mjs", import.meta.url));
const off = { name: "this checkout, compression off", checkout: here, compression: "off" };
const auto = { name: "this checkout, compression auto", checkout: here, compression: "auto" };
const encrypted = {
  name: "this checkout, compression auto + encryption",
  checkout: here,
  compression: "auto+encrypted",
};
const arms = [
  ...(baseline === undefined
    ? []
    : [{ name: `baseline (${baseline})`, checkout: resolve(baseline), compression: "-" }]),
  off,
  auto,
  encrypted,
];

const perTurn = arms.map(() => []);
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const [index, arm] of arms.entries()) {
    const counted = instructionsPerTurn(
      script,
      (turns) => [arm.checkout, String(turns), arm.compression],
      [shortRun, longRun],
      arm.name,
      { showErrors: true },
    );
    perTurn[index].push(counted);
    process.stderr.write(`${arm.name} #${repeat + 1}: ${(counted / 1e6).toFixed(3)} M/turn\n`);
  }
}
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const meanOf = (arm) => mean(perTurn[arms.indexOf(arm)]);
const base = mean(perTurn[0]);
console.log(
  `\ninstructions per chat turn (put + getTuple), callgrind, ${longRun} − ${shortRun} turns, ${repeats} runs per arm`,
);
console.log(`| arm | M instructions per turn (each run) | mean | / ${arms[0].name} |`);
console.log("|---|---|---|---|");
for (const [index, arm] of arms.entries()) {
  const runs = perTurn[index].map((value) => (value / 1e6).toFixed(3)).join(", ");
  const value = mean(perTurn[index]);
  console.log(
    `| ${arm.name} | ${runs} | ${(value / 1e6).toFixed(3)} | ${(value / base).toFixed(3)}x |`,
  );
}
console.log(
  `\ncompression auto / off: ${(meanOf(auto) / meanOf(off)).toFixed(3)}x; ` +
    `encryption on / off (both auto): ${(meanOf(encrypted) / meanOf(auto)).toFixed(3)}x`,
);

/**
 * node bench/chat-instructions.mjs <baseline checkout>   (needs valgrind; both checkouts built)
 *
 * "Chat put/getTuple no worse than before", counted in CPU instructions by callgrind instead of
 * timed: a count does not move when other processes share the cores, and each arm runs in its
 * own process, so the instance effects that a same-process latency bench shows between two
 * savers of one commit cannot enter. Instructions per turn = (long run − short run) / the turns
 * between them, which cancels start-up. Arms: the baseline, this checkout with compression off,
 * and this checkout with compression on (the default). BENCH_TURNS="60,260", BENCH_REPEATS=2.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const baseline = process.argv[2];
if (baseline === undefined) {
  console.error("usage: node bench/chat-instructions.mjs <baseline checkout, installed and built>");
  process.exit(2);
}
const here = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const [shortRun, longRun] = (process.env.BENCH_TURNS ?? "60,260").split(",").map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const script = fileURLToPath(new URL("./chat-turns-once.mjs", import.meta.url));
const arms = [
  { name: `baseline (${baseline})`, checkout: resolve(baseline), compression: "-" },
  { name: "this checkout, compression off", checkout: here, compression: "off" },
  { name: "this checkout, compression auto", checkout: here, compression: "auto" },
];

function instructions(arm, turns) {
  const out = join(tmpdir(), `lg-chat-callgrind-${process.pid}-${turns}.out`);
  execFileSync(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${out}`,
      process.execPath,
      "--single-threaded",
      script,
      arm.checkout,
      String(turns),
      arm.compression,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const summary = /^summary: (\d+)/m.exec(readFileSync(out, "utf8"));
  rmSync(out, { force: true });
  if (!summary) throw new Error(`callgrind wrote no summary for ${arm.name}, ${turns} turns`);
  return Number(summary[1]);
}

const perTurn = arms.map(() => []);
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const [index, arm] of arms.entries()) {
    const counted =
      (instructions(arm, longRun) - instructions(arm, shortRun)) / (longRun - shortRun);
    perTurn[index].push(counted);
    process.stderr.write(`${arm.name} #${repeat + 1}: ${(counted / 1e6).toFixed(3)} M/turn\n`);
  }
}
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const base = mean(perTurn[0]);
console.log(
  `\ninstructions per chat turn (put + getTuple), callgrind, ${longRun} − ${shortRun} turns, ${repeats} runs per arm`,
);
console.log("| arm | M instructions per turn (each run) | mean | / baseline |");
console.log("|---|---|---|---|");
for (const [index, arm] of arms.entries()) {
  const runs = perTurn[index].map((value) => (value / 1e6).toFixed(3)).join(", ");
  const value = mean(perTurn[index]);
  console.log(
    `| ${arm.name} | ${runs} | ${(value / 1e6).toFixed(3)} | ${(value / base).toFixed(3)}x |`,
  );
}

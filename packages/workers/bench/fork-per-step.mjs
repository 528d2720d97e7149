// Process-per-step baseline: a forked child runs one step, replies over IPC, then exits.
import { runStepToFile } from "../dist/step-runner.js";

process.once("message", async (task) => {
  process.send(await runStepToFile(task, process.pid), () => process.disconnect());
});

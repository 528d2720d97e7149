/**
 * The module piscina loads in every fresh worker. It is imported while the worker boots (piscina
 * preloads its task handler before reporting ready), so what runs at its top level happens
 * before the pool may hand this isolate a step.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { BOOTED_MESSAGE_KEY } from "./booted-message.js";
import { runStepToFile, type StepOutcome, type StepTask, warmUpStepPath } from "./step-runner.js";

export interface StepWorkerData {
  /** file: URLs imported once per isolate at boot; if one throws, the isolate fails to boot. */
  preloadModules: string[];
  /** Run the step path once on a built-in step at boot (see warmUpStepPath). */
  warmUp: boolean;
}

const { preloadModules, warmUp } = (workerData ?? {
  preloadModules: [],
  warmUp: false,
}) as StepWorkerData;
for (const moduleUrl of preloadModules) {
  await import(moduleUrl);
}
if (warmUp) await warmUpStepPath(threadId);
parentPort?.postMessage({ [BOOTED_MESSAGE_KEY]: threadId });

export default function runStepInWorker(task: StepTask): Promise<StepOutcome> {
  return runStepToFile(task, threadId);
}

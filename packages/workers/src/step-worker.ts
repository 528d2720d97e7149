/**
 * The module piscina loads in every fresh worker. It is imported while the worker boots (piscina
 * preloads its task handler before reporting ready), so what runs at its top level happens
 * before the pool may hand this isolate a step.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import { BOOTED_MESSAGE_KEY } from "./booted-message.js";
import { readHotModules } from "./hot-modules.js";
import { runStepToFile, type StepOutcome, type StepTask } from "./step-runner.js";

export interface StepWorkerData {
  /** file: URLs imported once per isolate at boot; if one throws, the isolate fails to boot. */
  preloadModules: string[];
  /** Step modules recently run (see HotModules); imported at boot, failures left to the step. */
  hotModules: SharedArrayBuffer | undefined;
}

const { preloadModules, hotModules } = (workerData ?? { preloadModules: [] }) as StepWorkerData;
for (const moduleUrl of preloadModules) {
  await import(moduleUrl);
}
for (const moduleUrl of readHotModules(hotModules)) {
  // A module that fails to evaluate stays failed in this isolate's module map, so the step that
  // asks for it gets the same error as ERR_LG_STEP_NOT_FOUND, where it belongs.
  await import(moduleUrl).catch(() => {});
}
parentPort?.postMessage({ [BOOTED_MESSAGE_KEY]: threadId });

export default function runStepInWorker(task: StepTask): Promise<StepOutcome> {
  return runStepToFile(task, threadId);
}

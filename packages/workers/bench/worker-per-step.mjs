// Naive baseline: a brand-new Worker for one step, then it ends.
import { parentPort, threadId, workerData } from "node:worker_threads";
import { runStepToFile } from "../dist/step-runner.js";

parentPort.postMessage(await runStepToFile(workerData, threadId));

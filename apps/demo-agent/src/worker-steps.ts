/**
 * What `leangraph-demo worker` (or `leangraph-worker --steps dist/worker-steps.js`) serves: the
 * generation step, by its export name. Only it: every fresh isolate imports this module while it
 * boots, and the review step would add the TypeScript compiler (~1.5 s) to each. The review reads
 * the project files, which live where the agent runs, so the agent keeps it.
 */
export { generateModule } from "./generator/generate-module-step.js";

/**
 * A state with large values goes through RedactingSerializer and comes back identical, while the
 * payload a checkpointer would store stays a few KB. Run: `pnpm --filter @leangraph/serde example`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { createFsBlobStore, RedactingSerializer } from "../src/index.js";

const mb = 1024 * 1024;
const blobDir = await mkdtemp(join(tmpdir(), "lg-example-blobs-"));

try {
  const serializer = new RedactingSerializer({ blobStore: createFsBlobStore({ dir: blobDir }) });

  const generatedSource = "export const answer = 42;\n".repeat((50 * mb) / 26);
  const state = {
    messages: [
      new HumanMessage("Generate the project."),
      new AIMessage({
        content: "Writing src/app.ts",
        tool_calls: [
          { id: "call_1", name: "write_file", args: { path: "src/app.ts", text: generatedSource } },
        ],
      }),
    ],
    files: new Map([["src/app.ts", generatedSource]]),
    testResults: Array.from({ length: 5000 }, (_, index) => ({ test: index, passed: true })),
    updatedAt: new Date().toISOString(),
  };

  const started = performance.now();
  const [type, payload] = await serializer.dumpsTyped(state);
  const dumpMs = performance.now() - started;
  const restored = await serializer.loadsTyped(type, payload);
  const [, stockPayload] = await new JsonPlusSerializer().dumpsTyped(state);

  let blobs = 0;
  for await (const _ of serializer.blobStore.list()) blobs += 1;

  console.log(
    `state: 2 copies of a ${(generatedSource.length / mb).toFixed(0)} MB file, 5000 test results, messages`,
  );
  console.log(`stock JsonPlusSerializer payload: ${(stockPayload.byteLength / mb).toFixed(1)} MB`);
  console.log(
    `RedactingSerializer payload:      ${payload.byteLength} bytes (${dumpMs.toFixed(0)} ms), ${blobs} blobs in ${blobDir}`,
  );
  console.log(`payload: ${Buffer.from(payload).toString("utf8").slice(0, 160)}…`);
  console.log(`round trip identical: ${isDeepStrictEqual(restored, state)}`);
  if (!isDeepStrictEqual(restored, state)) process.exitCode = 1;
} finally {
  await rm(blobDir, { recursive: true, force: true });
}

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { makeTempDir } from "./helpers.js";

// LangGraph's conformance suite with encryption at rest on: every row payload and item body goes
// through the sealing layer and must read back exactly as without it.
const temp = makeTempDir("sqlite-encryption-validation");
const encryptionKeys = [{ id: "suite", key: randomBytes(32) }];
let created = 0;

const initializer = {
  checkpointerName: "@leangraph/checkpointer:LeanSqliteSaver (encrypted)",
  createCheckpointer() {
    created += 1;
    return LeanSqliteSaver.fromConnString(join(temp.dir, `validation-${created}.sqlite`), {
      encryptionKeys,
    });
  },
  async destroyCheckpointer(saver: LeanSqliteSaver) {
    await saver.close();
  },
  afterAll() {
    temp.remove();
  },
};

validate(initializer);
deltaChannelHistoryTests(initializer);

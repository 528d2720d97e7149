import { join } from "node:path";
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation";
import { LeanSqliteSaver } from "../src/sqlite.js";
import { makeTempDir } from "./helpers.js";

// LangGraph's own conformance suite, under our own name so none of its per-saver skips apply.
const temp = makeTempDir("sqlite-validation");
let created = 0;

const initializer = {
  checkpointerName: "@leangraph/checkpointer:LeanSqliteSaver",
  createCheckpointer() {
    created += 1;
    return LeanSqliteSaver.fromConnString(join(temp.dir, `validation-${created}.sqlite`));
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

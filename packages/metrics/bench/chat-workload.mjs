import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { uuid6 } from "@langchain/langgraph-checkpoint";

/**
 * A chat as LangGraph's loop writes it (the checkpointer bench's workload): one `messages`
 * channel growing by one message per checkpoint from 20 messages, two small channels, only the
 * changed ones in newVersions; each put is read back with getTuple. Returns microseconds.
 */
export async function chatTurns(saver, turns) {
  const putUs = [];
  const getTupleUs = [];
  const messages = [];
  for (let index = 0; index < 20; index++) {
    messages.push(
      index % 2 === 0
        ? new HumanMessage({
            content: `question ${index}: how small can checkpoints be?`,
            id: `h${index}`,
          })
        : new AIMessage({
            content: `answer ${index}: ${"store ids and deltas; ".repeat(12)}`,
            id: `a${index}`,
          }),
    );
  }
  let parent = { configurable: { thread_id: `chat-${uuid6(-1)}`, checkpoint_ns: "" } };
  for (let turn = 0; turn < turns; turn++) {
    messages.push(
      new AIMessage({ content: `turn ${turn}: ${"lorem ipsum ".repeat(20)}`, id: `t${turn}` }),
    );
    const version = turn + 2;
    const checkpoint = {
      v: 4,
      id: uuid6(-1),
      ts: new Date().toISOString(),
      channel_values: { messages: [...messages], turn, "branch:to:agent": null },
      channel_versions: { messages: version, turn: version, "branch:to:agent": version },
      versions_seen: { agent: { messages: version - 1 } },
    };
    const newVersions =
      turn === 0 ? checkpoint.channel_versions : { messages: version, turn: version };
    let started = performance.now();
    const config = await saver.put(
      parent,
      checkpoint,
      { source: "loop", step: turn, parents: {} },
      newVersions,
    );
    putUs.push((performance.now() - started) * 1000);
    started = performance.now();
    const tuple = await saver.getTuple(config);
    getTupleUs.push((performance.now() - started) * 1000);
    if (tuple?.checkpoint.channel_values.messages.length !== messages.length)
      throw new Error("the chat read back a different state");
    parent = config;
  }
  return { putUs, getTupleUs };
}

import { LeangraphError } from "@leangraph/serde";
import { CheckpointerErrorCode } from "./errors.js";

/**
 * The optional peer dependencies, with the ranges package.json declares for them (a test keeps
 * the two equal). Each backend needs only its own, so a Postgres-only project never installs
 * better-sqlite3 (which compiles from source where no prebuilt binary fits) and vice versa.
 */
export const optionalPeerRanges = {
  "better-sqlite3": "^12.10.0",
  pg: "^8.16.0",
  "@langchain/langgraph-checkpoint-sqlite": "^1.0.4",
  "@langchain/langgraph-checkpoint-postgres": "^1.0.5",
} as const;

function namesMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === "ERR_MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${name}'`)
  );
}

/**
 * Imports the packages `backend` needs and fails, before anything is opened, with one coded error
 * naming every one that is missing and the command that installs them. Any other failure (a
 * package that is there but broken) is rethrown as it is.
 */
export async function requireOptionalPeers(
  backend: string,
  packages: readonly string[],
  ranges: Readonly<Record<string, string>> = optionalPeerRanges,
): Promise<void> {
  const missing = new Set<string>();
  for (const name of packages) {
    try {
      await import(name);
    } catch (error) {
      // A stock saver that is installed but whose own driver is not reports the driver's name.
      const named = packages.find((candidate) => namesMissingPackage(error, candidate));
      if (named === undefined) throw error;
      missing.add(named);
    }
  }
  if (missing.size === 0) return;
  const names = [...missing];
  throw new LeangraphError(
    CheckpointerErrorCode.driverMissing,
    `${backend} needs ${names.join(" and ")}, which ${names.length === 1 ? "is" : "are"} not installed.`,
    {
      hint: `Install ${names.length === 1 ? "it" : "them"} beside @leangraph/checkpointer: npm install ${names
        .map((name) => `"${name}@${ranges[name] ?? "latest"}"`)
        .join(" ")}`,
    },
  );
}

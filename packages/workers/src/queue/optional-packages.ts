import { LeangraphError, WorkersErrorCode } from "../errors.js";

/**
 * The optional dependencies of the step queue, with the ranges package.json declares for them.
 * Only a pool or worker that is given a queue loads them, so a project that runs steps on its own
 * machine never installs or loads BullMQ and ioredis.
 */
export const queuePackageRanges = {
  bullmq: "^6.7.6",
  ioredis: "^5.11.1",
  "@leangraph/checkpointer": "*",
  "@leangraph/serde": "*",
} as const;

type OptionalPackage = keyof typeof queuePackageRanges;

function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === "ERR_MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${name}`)
  );
}

/**
 * Imports an optional package for `what`, or fails with ERR_LG_DRIVER_MISSING naming the install
 * command. A package that is there but fails to load is rethrown as it is.
 */
export async function importOptional<Module>(
  name: OptionalPackage,
  load: () => Promise<Module>,
  what: string,
): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new LeangraphError(
      WorkersErrorCode.driverMissing,
      `${what} needs ${name}, which is not installed.`,
      {
        cause: error,
        hint: `Install it beside @leangraph/workers: npm install "${name}@${queuePackageRanges[name]}"`,
      },
    );
  }
}

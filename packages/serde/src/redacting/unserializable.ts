import { LeangraphError, SerdeErrorCode } from "../errors.js";

/** One step from a value to a part of it: an object key, or an array / Set / Map position. */
export type PathStep = string | number;

const identifier = /^[A-Za-z_$][\w$]*$/;

/** `root[2].content["odd key"]`: the path as a user would write it in JavaScript. */
export function formatPath(root: string, path: readonly PathStep[]): string {
  let text = root;
  for (const step of path) {
    if (typeof step === "number") text += `[${step}]`;
    else text += identifier.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return text;
}

/**
 * ERR_LG_UNSERIALIZABLE with where it was found: `path` from the value handed to the serializer
 * down to the offending part, and `what` it is. Raised while planning a payload, before any blob
 * is written, so a caller that serializes many values can name the one that failed exactly.
 */
export class UnserializableError extends LeangraphError {
  readonly path: PathStep[];
  readonly what: string;

  constructor(what: string, options: { hint?: string; cause?: unknown } = {}) {
    super(SerdeErrorCode.unserializable, messageOf(what, []), {
      cause: options.cause,
      hint:
        options.hint ??
        "Keep only data in graph state (strings, numbers, plain objects, messages …).",
    });
    this.path = [];
    this.what = what;
  }

  /** Called while the error unwinds: `step` leads from the enclosing value to the one it names. */
  prepend(step: PathStep): void {
    this.path.unshift(step);
    this.message = messageOf(this.what, this.path);
  }

  /** Forgets the first steps: they named the encoding of a value (a Map's args[0]), not the value. */
  dropLeadingSteps(count: number): void {
    this.path.splice(0, count);
    this.message = messageOf(this.what, this.path);
  }

  /** The message with the path starting at `root` (a channel name, `writes[0]`) instead of `value`. */
  describeAt(root: string): string {
    return `${formatPath(root, this.path)} is ${this.what}`;
  }
}

function messageOf(what: string, path: readonly PathStep[]): string {
  return `Cannot serialize ${formatPath("value", path)}: it is ${what}, which has no lossless JSON form.`;
}

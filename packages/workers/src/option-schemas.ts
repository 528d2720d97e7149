import { z } from "zod";

/*
 * Builders for option schemas whose messages say what is accepted, so parseOptions (from
 * @leangraph/errors) can report "threads=0 is not accepted: expected a whole number of threads
 * from 1 to 256" instead of zod's generic wording.
 */

export function wholeNumber(min: number, max: number, unit: string) {
  const accepted =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number of ${unit}, at least ${min}`
      : `a whole number of ${unit} from ${min} to ${max}`;
  return z.number({ message: accepted }).int(accepted).min(min, accepted).max(max, accepted);
}

export function numberAtLeast(min: number, unit: string) {
  const accepted = `a number of ${unit}, at least ${min}`;
  return z.number({ message: accepted }).min(min, accepted);
}

/** A fraction above 0 and at most 1 (of the heap limit). */
export function fractionOfHeap(what: string) {
  const accepted = `${what}: a fraction of the heap limit above 0 and at most 1`;
  return z.number({ message: accepted }).gt(0, accepted).max(1, accepted);
}

export const booleanOption = z.boolean({ message: "true or false" });

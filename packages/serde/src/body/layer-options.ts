import { z } from "zod";
import type { BodyLayer } from "./body-layer.js";

export function isBodyLayer(value: unknown): value is BodyLayer {
  const candidate = value as Partial<BodyLayer> | null | undefined;
  return (
    typeof candidate?.name === "string" &&
    typeof candidate.encode === "function" &&
    typeof candidate.decode === "function"
  );
}

/** The `layers` option of every blob store factory: applied in order on write, reversed on read. */
export const bodyLayersOption = z.array(
  z.custom<BodyLayer>(isBodyLayer, {
    message: "a body layer ({ name, encode, decode }), e.g. createCompressionLayer()",
  }),
  { message: "an array of body layers" },
);

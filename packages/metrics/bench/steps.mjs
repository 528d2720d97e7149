// The bench's step: a little real work (JSON of a small module) so a step is a step, not a no-op.
export function renderSmallModule({ index }) {
  const lines = [];
  for (let line = 0; line < 200; line++)
    lines.push(`export const value${index}_${line} = ${line};`);
  return lines.join("\n");
}

import { z } from "zod";
import { readFileVerified, syntaxDiagnostics } from "./parse-check.js";

/**
 * The review step: reads a batch of generated files back by path (streaming, hash-checked) and
 * parses each as TypeScript/TSX. Run through the step pool, so the parser's ASTs (several MB
 * per 200 KB file) live and die in a worker isolate instead of inflating the main heap; it
 * returns a small JSON report, never file content.
 */
export const reviewFilesInputSchema = z.object({
  files: z.array(
    z.object({
      /** Absolute path of the file to read. */
      absolutePath: z.string().min(1),
      /** Project-relative path, used in diagnostics. */
      path: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  /** Diagnostics kept per failing file; the rest would only bloat the state. */
  maxDiagnostics: z.number().int().min(1).default(5),
});

export type ReviewFilesInput = z.input<typeof reviewFilesInputSchema>;

export interface ReviewedFile {
  path: string;
  bytes: number;
  /** Empty when the file parses and still has the checkpointed hash. */
  diagnostics: string[];
}

export async function reviewFiles(rawInput: unknown): Promise<string> {
  const input = reviewFilesInputSchema.parse(rawInput);
  const reviewed: ReviewedFile[] = [];
  for (const file of input.files) {
    const { text, sha256, bytes } = await readFileVerified(file.absolutePath);
    const diagnostics =
      sha256 === file.sha256
        ? syntaxDiagnostics(file.path, text)
        : [`content changed on disk since it was generated (sha256 ${sha256})`];
    reviewed.push({
      path: file.path,
      bytes,
      diagnostics: diagnostics.slice(0, input.maxDiagnostics),
    });
  }
  return JSON.stringify(reviewed);
}

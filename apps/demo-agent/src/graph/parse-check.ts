import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import ts from "typescript";

/**
 * Syntactic diagnostics of one TypeScript/TSX file, through the compiler's public API: a
 * one-file program with no lib and no module resolution, so only parsing is checked (generated
 * modules import "react", which is not installed here, on purpose). Costs one parse.
 */
export function syntaxDiagnostics(fileName: string, text: string): string[] {
  const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false);
  const options: ts.CompilerOptions = {
    noLib: true,
    noResolve: true,
    jsx: ts.JsxEmit.Preserve,
    target: ts.ScriptTarget.ES2022,
  };
  const host: ts.CompilerHost = {
    getSourceFile: (name) => (name === fileName ? sourceFile : undefined),
    getDefaultLibFileName: () => "lib.d.ts",
    writeFile: () => {},
    getCurrentDirectory: () => "/",
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (name) => name === fileName,
    readFile: () => undefined,
  };
  const program = ts.createProgram({ rootNames: [fileName], options, host });
  return program.getSyntacticDiagnostics(sourceFile).map((diagnostic) => {
    const position =
      diagnostic.start === undefined
        ? ""
        : (() => {
            const { line, character } = sourceFile.getLineAndCharacterOfPosition(diagnostic.start);
            return `:${line + 1}:${character + 1}`;
          })();
    return `${fileName}${position} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
  });
}

/**
 * Reads a generated file back by path as a stream, hashing while reading, so a file that changed
 * on disk since its hash was checkpointed is caught. The text of one file is held at a time.
 */
export async function readFileVerified(
  path: string,
): Promise<{ text: string; sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    chunks.push(buffer);
    bytes += buffer.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), sha256: hash.digest("hex"), bytes };
}

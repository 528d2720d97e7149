/*
 * `@leangraph/checkpointer/sqlite`: the SQLite saver. Importing it loads better-sqlite3, an
 * optional peer dependency of this package (npm install better-sqlite3@^12).
 */

export { sqliteDatabaseBytes } from "./sqlite/database-bytes.js";
export { defaultBlobDirFor, LeanSqliteSaver, type LeanSqliteSaverOptions } from "./sqlite/saver.js";

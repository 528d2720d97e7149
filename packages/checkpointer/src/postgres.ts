/*
 * `@leangraph/checkpointer/postgres`: the Postgres saver and the Postgres blob store. Importing it
 * loads pg, an optional peer dependency of this package (npm install pg).
 */
export { LeanPostgresSaver, type LeanPostgresSaverOptions } from "./postgres/saver.js";
export {
  createPostgresBlobStore,
  type PostgresBlobStore,
  type PostgresBlobStoreOptions,
} from "./stores/postgres-blob-store.js";

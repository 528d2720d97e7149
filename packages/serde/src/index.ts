export * from "./blob-store.js";
export * from "./errors.js";
export * from "./stores/fs.js";
export * from "./stores/memory.js";

/**
 * Failures the suite currently reports, traced to their cause by hand (the figures say what broke;
 * this says where). Each is also pinned by an `it.fails` test in test/, which starts failing the
 * day the bug is fixed, so this list and the exclusions are cleaned up together.
 */
export const knownBugs: ReadonlyArray<{ scenarios: string; owner: string; bug: string }> = [];

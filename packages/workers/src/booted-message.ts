/** Posted by a worker once its preloads ran: only then is the isolate really ready for a step. */
export const BOOTED_MESSAGE_KEY = "leangraphWorkerBooted";

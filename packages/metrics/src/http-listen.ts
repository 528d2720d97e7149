import type { Server } from "node:http";
import { LeangraphError, MetricsErrorCode } from "@leangraph/errors";

export interface Listening {
  /** e.g. http://127.0.0.1:9464 (the port the OS chose when 0 was asked for). */
  url: string;
  port: number;
  /** Stops accepting connections and ends open ones (a dashboard's event stream never ends by itself). */
  close(): Promise<void>;
}

/**
 * Listens on host:port, or fails with ERR_LG_METRICS_SERVE_FAILED naming what was asked for
 * (EADDRINUSE, EADDRNOTAVAIL, EACCES) instead of an unhandled 'error' event. The server is
 * unref'd: serving metrics must never be the reason a finished agent stays alive.
 */
export function listen(
  server: Server,
  host: string,
  port: number,
  what: string,
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new LeangraphError(
          MetricsErrorCode.serveFailed,
          `The ${what} could not listen on ${host}:${port}: ${error.code ?? error.message}.`,
          {
            cause: error,
            hint:
              error.code === "EADDRINUSE"
                ? "Another process uses that port: choose another one, or 0 for a free port."
                : "Use an address of this machine (127.0.0.1 by default) and a port from 1024 to 65535.",
          },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      server.unref();
      const address = server.address();
      const boundPort = typeof address === "object" && address !== null ? address.port : port;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${boundPort}`,
        port: boundPort,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

import { describe, expect, it } from "vitest";
import { metricsFlagsFromEnv } from "../src/from-env.js";

describe("LG_METRICS_PORT / LG_METRICS_HOST", () => {
  it("is off by default and binds loopback", () => {
    expect(metricsFlagsFromEnv({})).toEqual({ port: undefined, host: "127.0.0.1" });
    expect(metricsFlagsFromEnv({ LG_METRICS_PORT: " " })).toEqual({
      port: undefined,
      host: "127.0.0.1",
    });
  });

  it("reads a port (0 for a free one) and a host", () => {
    expect(metricsFlagsFromEnv({ LG_METRICS_PORT: "9464" }).port).toBe(9464);
    expect(metricsFlagsFromEnv({ LG_METRICS_PORT: "0" }).port).toBe(0);
    expect(metricsFlagsFromEnv({ LG_METRICS_HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(metricsFlagsFromEnv({ LG_METRICS_HOST: "::1" }).host).toBe("::1");
    expect(metricsFlagsFromEnv({ LG_METRICS_HOST: "metrics.internal" }).host).toBe(
      "metrics.internal",
    );
  });

  it.each([
    ["LG_METRICS_PORT", "70000", "a TCP port from 1 to 65535"],
    ["LG_METRICS_PORT", "http", "a TCP port from 1 to 65535"],
    ["LG_METRICS_PORT", "-1", "or 0 for a free port"],
    ["LG_METRICS_HOST", "http://x", "an IP address or host name"],
  ])(
    "rejects %s=%s naming the variable, the value and what is accepted",
    (name, value, accepted) => {
      let thrown: unknown;
      try {
        metricsFlagsFromEnv({ [name]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: "ERR_LG_INVALID_OPTION" });
      expect((thrown as Error).message).toContain(`${name}=${JSON.stringify(value)}`);
      expect((thrown as Error).message).toContain(accepted);
    },
  );
});

/**
 * Child program of the soak: runs one configuration in a process of its own, so it starts from a
 * clean baseline and with its own environment (MALLOC_ARENA_MAX is read by glibc at start-up
 * only). Sends its SoakMeasurement to the parent over IPC; any error exits non-zero.
 * Usage: node --expose-gc soak-configuration.ts '<SoakMeasurementRequest as JSON>'
 */
import {
  measureSoakConfiguration,
  type SoakMeasurementRequest,
} from "../scenarios/soak-measurement.js";

// An 8-hour soak whose parent died (killed, not Ctrl-C'd as a group) must not run on unseen.
process.on("disconnect", () => process.exit(1));
const request = JSON.parse(process.argv[2]!) as SoakMeasurementRequest;
const measurement = await measureSoakConfiguration(request);
process.send!(measurement, () => process.exit(0));

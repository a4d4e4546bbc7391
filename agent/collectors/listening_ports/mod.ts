// The listening_ports collector: what waits for peers, and which program holds it (Linux: /proc; Windows: iphlpapi).
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { PortItem } from "./item.ts";
import { readLinuxPorts } from "./linux.ts";
import { readWindowsPorts } from "./windows.ts";

export const listeningPortsCollector: Collector<PortItem> = implement(
  spec,
  async (_settings, { host, signal }) =>
    host.os === "windows" ? readWindowsPorts(host, signal) : await readLinuxPorts(host, signal),
);

export default listeningPortsCollector;

// The listening_ports collector: what waits for peers, and which program holds it (Linux: /proc).
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import spec from "./spec.ts";
import type { PortItem } from "./item.ts";
import { readLinuxPorts } from "./linux.ts";

export const listeningPortsCollector: Collector<PortItem> = implement(
  spec,
  (_settings, { host, signal }) => readLinuxPorts(host, signal),
);

export default listeningPortsCollector;

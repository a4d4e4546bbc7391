// The one list of collectors. Adding a collector is one folder plus one line here.
import type { Collector } from "./types.ts";
import { softwareCollector } from "./software/mod.ts";
import { servicesCollector } from "./services/mod.ts";
import { registryCollector } from "./registry/mod.ts";
import { filesCollector } from "./files/mod.ts";

export function allCollectors(): Collector[] {
  return [
    softwareCollector() as unknown as Collector,
    servicesCollector() as unknown as Collector,
    registryCollector() as unknown as Collector,
    filesCollector() as unknown as Collector,
  ];
}

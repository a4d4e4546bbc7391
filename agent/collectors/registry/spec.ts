// The registry collector's spec: the values under the DCR's registryInfo keys (Windows).
import { defineCollector } from "../spec.ts";
import type { RegistryItem } from "./item.ts";

export default defineCollector<RegistryItem>({
  name: "registry",
  label: "Registry",
  nouns: ["registry value", "registry values"],
  platforms: ["windows"],
  schedule: { dcr: "enableRegistry", frequency: "registrySettings.registryCollectionFrequency" },
  dataType: { windows: "Registry" },
  toAma: true,
  // SPEC §7.8: registry changes go to the first change stream.
  changeStream: "CONFIG_CHANGE_BLOB",
  /**
   * Natural key. Key names cannot hold a backslash, so the first `\\` (two backslashes) separates the key
   * path from the value name unambiguously, whatever the value name holds.
   */
  key: (i) => `${i.RegistryKey}\\\\${i.ValueName}`,
  nameField: "RegistryKey",
  volatile: ["KeyLastWritten"],
  columns: [
    { field: "RegistryKey", label: "Key", style: "strong mono" },
    { field: "ValueName", label: "Value" },
    { field: "ValueType", label: "Type" },
    { field: "ValueData", label: "Data", style: "mono" },
  ],
  filterable: ["ValueType"],
  fields: { KeyLastWritten: { format: "time", timestamp: true } },
  // SPEC §3.4: the real agent writes no registry mirror.
  mirror: null,
  content: false,
  page: {
    icon: "R",
    shortcut: "r",
    color: ["#db2777", "#f472b6"],
    empty: "No registry values are tracked: enable registryInfo entries in the DCR (Windows).",
    title: { fields: ["RegistryKey", "ValueName"], join: "\\" },
    path: true,
    important: ["ValueData"],
    summary: "ValueData",
  },
});

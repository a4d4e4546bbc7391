// The kernel_modules collector's spec: the loaded kernel modules, their files' versions and signers, the taint;
// on Windows the kernel and file system drivers.
import { defineCollector } from "../spec.ts";
import type { ModuleItem } from "./item.ts";

export default defineCollector<ModuleItem>({
  name: "kernel_modules",
  label: "Kernel modules",
  nouns: ["kernel module", "kernel modules"],
  platforms: ["linux", "windows"],
  // Not one of the DCR's kinds: ctagent's own settings (`--config`: "collectors": {"kernelModules": …}).
  schedule: { dcr: null, setting: "kernelModules", defaultSeconds: 300 },
  dataType: { linux: "KernelModules", windows: "KernelModules" },
  toAma: false,
  key: (i) => `${i.Kind}:${i.Module}`,
  nameField: "Module",
  currentField: "Version",
  // Every mount, open or new user of a module moves its count.
  volatile: ["RefCount"],
  columns: [
    { field: "Module", label: "Module", style: "strong" },
    { field: "Version", label: "Version" },
    { field: "Size", label: "Size", format: "bytes", style: "num" },
    { field: "UsedBy", label: "Used by" },
    { field: "Signed", label: "Signed" },
    { field: "Signer", label: "Signer" },
    { field: "Taint", label: "Taint", style: "mono" },
    { field: "Path", label: "File", style: "mono dim" },
  ],
  sortable: ["RefCount"],
  filterable: ["Kind", "State", "Signer", "Taint", "License"],
  mirror: null,
  content: false,
  page: {
    icon: "K",
    shortcut: "k",
    color: ["#b45309", "#fbbf24"],
    empty:
      "No kernel modules found yet: the kernel_modules collector has not run, or this kernel loads none.",
    important: ["Version", "Signed", "Signer", "Taint", "Path", "SrcVersion"],
    summary: "Version",
  },
});

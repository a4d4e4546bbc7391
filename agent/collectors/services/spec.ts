// The services collector's spec: systemd units, SysV scripts or Windows services, as the DCR's enableServices asks.
import { defineCollector } from "../spec.ts";
import type { ServiceItem } from "./types.ts";

export default defineCollector<ServiceItem>({
  name: "services",
  label: "Services",
  nouns: ["service", "services"],
  platforms: ["linux", "windows"],
  schedule: { dcr: "enableServices", frequency: "servicesSettings.serviceCollectionFrequency" },
  dataType: { linux: "Daemons", windows: "WindowsServices" },
  toAma: true,
  key: (i) => i.SvcName,
  nameField: "SvcName",
  // systemd's ActiveState passes through activating/deactivating as timers fire: shown, never a change.
  volatile: ["ActiveState"],
  // 0.2: the real agent's SvcPath (the unit file), SvcRunlevels (WantedBy), SysV's controller name (init),
  // WMI's startup types (Auto, the delay apart).
  revisions: [["SvcPath", "SvcRunlevels", "SvcController", "SvcStartupType", "DelayedAutoStart"]],
  columns: [
    { field: "SvcName", label: "Name", style: "strong" },
    { field: "SvcDisplayName", label: "Display name" },
    { field: "SvcState", label: "State" },
    { field: "SvcStartupType", label: "Startup" },
    { field: "SvcAccount", label: "Account" },
    { field: "SvcController", label: "Controller" },
    { field: "SvcPath", label: "Path", style: "mono dim" },
  ],
  filterable: ["SvcState", "SvcStartupType", "SvcController"],
  mirror: { linux: [{ file: "Services.json" }], windows: [{ file: "Services.json" }] },
  content: false,
  page: {
    icon: "D",
    shortcut: "v",
    color: ["#7c3aed", "#a78bfa"],
    empty: "No services found: no service manager (systemd, SysV init or the Windows SCM) was seen.",
    important: ["SvcState", "SvcStartupType", "SvcPath"],
    summary: "SvcState",
  },
});

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
  // The unit directories (units, drop-ins, .wants links), the SysV scripts and runlevel links; Windows keeps
  // its services in the registry. Whether a service runs shows in no file: polled.
  watch: {
    paths: {
      linux: [
        { path: "/etc/systemd/system", depth: 2 },
        { path: "/run/systemd/system", depth: 2 },
        { path: "/run/systemd/transient", depth: 2 },
        { path: "/usr/local/lib/systemd/system", depth: 2 },
        { path: "/lib/systemd/system", depth: 2 },
        { path: "/usr/lib/systemd/system", depth: 2 },
        { path: "/etc/init.d", depth: 1 },
        { path: "/etc/rc0.d", depth: 1 },
        { path: "/etc/rc1.d", depth: 1 },
        { path: "/etc/rc2.d", depth: 1 },
        { path: "/etc/rc3.d", depth: 1 },
        { path: "/etc/rc4.d", depth: 1 },
        { path: "/etc/rc5.d", depth: 1 },
        { path: "/etc/rc6.d", depth: 1 },
        { path: "/etc/rcS.d", depth: 1 },
      ],
    },
    registry: [{ key: "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services", subtree: true }],
    pollSeconds: { linux: 60, windows: 60 },
    // Without systemd running, a Linux service's state is what its files say.
    pollIf: { linux: "/run/systemd/system" },
  },
  page: {
    icon: "D",
    shortcut: "v",
    color: ["#7c3aed", "#a78bfa"],
    empty: "No services found: no service manager (systemd, SysV init or the Windows SCM) was seen.",
    important: ["SvcState", "SvcStartupType", "SvcPath"],
    summary: "SvcState",
  },
});

// The listening_ports collector's spec: what waits for peers on this machine (TCP listeners, bound UDP sockets).
import { defineCollector } from "../spec.ts";
import type { PortItem } from "./item.ts";

export default defineCollector<PortItem>({
  name: "listening_ports",
  label: "Listening ports",
  nouns: ["listening port", "listening ports"],
  platforms: ["linux", "windows"],
  // Not one of the DCR's kinds: ctagent's own settings (`--config`: "collectors": {"listeningPorts": …}).
  schedule: { dcr: null, setting: "listeningPorts", defaultSeconds: 60 },
  dataType: { linux: "ListeningPorts", windows: "ListeningPorts" },
  toAma: false,
  // A restart gives a new pid on the same port: the same item. Another program on it is a change.
  key: (i) => `${i.Protocol}|${i.Address}|${i.Port}`,
  nameField: "Endpoint",
  volatile: ["Pid", "Pids", "OwnerNote"],
  columns: [
    { field: "Endpoint", label: "Address", style: "strong mono" },
    { field: "Protocol", label: "Protocol" },
    { field: "Process", label: "Process" },
    { field: "User", label: "User" },
    { field: "Pid", label: "PID", style: "num" },
    { field: "Executable", label: "Executable", style: "mono dim" },
  ],
  sortable: ["Port"],
  filterable: ["Protocol", "Process", "User", "Port"],
  mirror: null,
  content: false,
  page: {
    icon: "P",
    shortcut: "p",
    color: ["#0891b2", "#22d3ee"],
    empty: "No listening ports found yet: the listening_ports collector has not run, or nothing listens.",
    important: ["Executable", "Process", "User"],
    summary: "Process",
  },
});

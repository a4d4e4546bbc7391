// The users collector's spec: local users and groups, who is an administrator, password states (never a hash).
import { defineCollector } from "../spec.ts";
import type { UserItem } from "./item.ts";

export default defineCollector<UserItem>({
  name: "users",
  label: "Users",
  nouns: ["account", "accounts"],
  platforms: ["linux", "windows"],
  // Not one of the DCR's kinds: ctagent's own settings (`--config`: "collectors": {"users": …}) switch it.
  schedule: { dcr: null, setting: "users", defaultSeconds: 300 },
  dataType: { linux: "Users", windows: "Users" },
  toAma: false,
  // A user and a group may share a name.
  key: (i) => `${i.Kind}:${i.Name}`,
  nameField: "Name",
  volatile: [],
  columns: [
    { field: "Name", label: "Name", style: "strong" },
    { field: "Kind", label: "Kind" },
    { field: "Id", label: "ID", style: "num" },
    { field: "Admin", label: "Admin" },
    { field: "Groups", label: "Groups" },
    { field: "PasswordStatus", label: "Password" },
    { field: "Disabled", label: "Disabled" },
    { field: "Shell", label: "Shell", style: "mono dim" },
    { field: "Home", label: "Home", style: "mono dim" },
  ],
  sortable: ["PasswordChanged"],
  // Admin and Disabled are booleans, which the page's exact-value filters do not match yet.
  filterable: ["Kind", "PasswordStatus", "Shell"],
  mirror: null,
  content: false,
  page: {
    icon: "U",
    shortcut: "u",
    color: ["#059669", "#34d399"],
    empty: "No accounts found yet: the users collector has not run.",
    important: ["Admin", "Groups", "PasswordStatus", "Disabled", "PasswordExpired", "Sudo"],
    summary: "Kind",
  },
  // The account databases and sudo's policy (a file `@include`d from elsewhere is seen by the scheduled run);
  // Windows keeps its accounts in the SAM, which only SYSTEM may open: its scheduled runs see them.
  watch: {
    paths: {
      linux: [
        { path: "/etc/passwd" },
        { path: "/etc/group" },
        { path: "/etc/shadow" },
        { path: "/etc/gshadow" },
        { path: "/etc/sudoers" },
        { path: "/etc/sudoers.d", depth: 1 },
      ],
    },
  },
});

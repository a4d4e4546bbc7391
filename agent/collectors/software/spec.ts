// The software collector's spec: installed packages, programs and updates, as the DCR's enableSoftware asks.
import { defineCollector } from "../spec.ts";
import type { SoftwareItem } from "./types.ts";

const isUpdate = (i: SoftwareItem) => String(i.SoftwareType ?? "") === "Update";

export default defineCollector<SoftwareItem>({
  name: "software",
  label: "Software",
  nouns: ["package", "packages"],
  platforms: ["linux", "windows"],
  schedule: { dcr: "enableSoftware", frequency: "softwareSettings.softwareCollectionFrequency" },
  dataType: { linux: "Software", windows: "Software" },
  toAma: true,
  /**
   * Manager, name and architecture; plus the version for packages installed in several versions side by side
   * (rpm kernels, gpg-pubkey), so that each version is its own item.
   */
  key(i) {
    const base = `${i.Manager}:${i.SoftwareName}:${i.Architecture}`;
    return i.InstallOnly === true ? `${base}:${i.CurrentVersion}` : base;
  },
  nameField: "SoftwareName",
  currentField: "CurrentVersion",
  volatile: [],
  // 0.2: dpkg's Size is Installed-Size in KiB, as the real agent sends it (was bytes).
  revisions: [["Size"]],
  columns: [
    { field: "SoftwareName", label: "Name", style: "strong" },
    { field: "CurrentVersion", label: "Version", style: "mono" },
    { field: "Architecture", label: "Arch" },
    { field: "Publisher", label: "Publisher" },
    { field: "Manager", label: "Manager" },
    // As each manager gives it (SPEC §7.19): dpkg in KiB, the others in bytes.
    {
      field: "Size",
      label: "Size",
      format: "bytes",
      style: "num",
      kibWhen: { field: "Manager", value: "dpkg" },
    },
    { field: "SoftwareDescription", label: "Description", style: "dim" },
  ],
  filterable: ["Manager", "Architecture"],
  // A reinstall moves InstalledAt alone: news, so no timestamp.
  fields: { InstalledAt: { format: "time" } },
  // SPEC §3.4: the real agent's mirrors; Windows splits programs from updates.
  mirror: {
    linux: [{ file: "Packages.json" }],
    windows: [
      { file: "Applications.json", keep: (i) => !isUpdate(i) },
      { file: "Patches.json", keep: isUpdate },
    ],
  },
  content: false,
  // Each package database, and the items it holds: a write re-reads that manager's packages.
  watch: {
    paths: {
      linux: [
        { path: "/var/lib/dpkg/status", keys: ["dpkg:"] },
        { path: "/var/lib/rpm", depth: 1, keys: ["rpm:"] },
        { path: "/usr/lib/sysimage/rpm", depth: 1, keys: ["rpm:"] },
        { path: "/lib/apk/db/installed", keys: ["apk:"] },
        { path: "/var/lib/pacman/local", depth: 2, keys: ["pacman:"] },
      ],
    },
    registry: [
      {
        key: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
        subtree: true,
        keys: ["windows:"],
      },
      {
        key: "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
        subtree: true,
        keys: ["windows:"],
      },
      {
        key:
          "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages",
        subtree: false,
        keys: ["windows:"],
      },
    ],
  },
  page: {
    icon: "S",
    shortcut: "s",
    color: ["#2563eb", "#60a5fa"],
    empty: "No packages found: no package manager (dpkg, rpm, apk, pacman or Windows Installer) was seen.",
    important: ["CurrentVersion"],
    summary: "CurrentVersion",
  },
});

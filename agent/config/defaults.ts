// The built-in default DCR of each OS: Microsoft's defaults (SPEC §1.2, §1.4, §1.5), used when nothing else is.
import type { Platform } from "../platform.ts";

/** Keys of the 17 "Recommended" registry entries, all shipped disabled (SPEC §1.5). */
const DEFAULT_REGISTRY_KEYS = [
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Startup",
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Shutdown",
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Run",
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Active Setup\\Installed Components",
  "HKEY_LOCAL_MACHINE\\Software\\Classes\\Directory\\ShellEx\\ContextMenuHandlers",
  "HKEY_LOCAL_MACHINE\\Software\\Classes\\Directory\\Background\\ShellEx\\ContextMenuHandlers",
  "HKEY_LOCAL_MACHINE\\Software\\Classes\\Directory\\Shellex\\CopyHookHandlers",
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\ShellIconOverlayIdentifiers",
  "HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer\\ShellIconOverlayIdentifiers",
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Browser Helper Objects",
  "HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Browser Helper Objects",
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Internet Explorer\\Extensions",
  "HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\Microsoft\\Internet Explorer\\Extensions",
  "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Drivers32",
  "HKEY_LOCAL_MACHINE\\Software\\Wow6432Node\\Microsoft\\Windows NT\\CurrentVersion\\Drivers32",
  "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\Session Manager\\KnownDlls",
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Notify",
];

const LINUX_DEFAULT_FILE = {
  name: "ChangeTrackingLinuxPath_default",
  enabled: true,
  destinationPath: "/etc/.*.conf",
  useSudo: true,
  recurse: true,
  maxContentsReturnable: 5000000,
  pathType: "File",
  type: "File",
  links: "Follow",
  maxOutputSize: 500000,
  groupTag: "Recommended",
};

/** The default `extensionSettings` for `os`, as the Microsoft portal creates it. */
export function defaultExtensionSettings(os: Platform): Record<string, unknown> {
  const common = { enableFiles: true, enableSoftware: true, enableServices: true, enableInventory: true };
  if (os === "linux") {
    return {
      ...common,
      enableRegistry: false,
      fileSettings: { fileCollectionFrequency: 900, fileInfo: [LINUX_DEFAULT_FILE] },
      softwareSettings: { softwareCollectionFrequency: 300 },
      inventorySettings: { inventoryCollectionFrequency: 36000 },
      servicesSettings: { serviceCollectionFrequency: 300 },
    };
  }
  return {
    ...common,
    enableRegistry: true,
    registrySettings: {
      registryCollectionFrequency: 3000,
      registryInfo: DEFAULT_REGISTRY_KEYS.map((keyName, i) => ({
        name: `Registry_${i + 1}`,
        groupTag: "Recommended",
        enabled: false,
        recurse: true,
        description: "",
        keyName,
        valueName: "",
      })),
    },
    fileSettings: { fileCollectionFrequency: 2700, fileInfo: [] },
    softwareSettings: { softwareCollectionFrequency: 1800 },
    inventorySettings: { inventoryCollectionFrequency: 36000 },
    servicesSettings: { serviceCollectionFrequency: 1800 },
  };
}

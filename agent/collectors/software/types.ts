// Shapes shared by the software sources (one per package manager or Windows source).
import type { Host } from "../../host/mod.ts";
import type { Platform } from "../../platform.ts";

/** A software item: Log Analytics columns (SPEC §2) plus what the manager adds. */
export interface SoftwareItem {
  [field: string]: string | number | boolean | null;
  SoftwareName: string;
  CurrentVersion: string;
  Architecture: string;
  Publisher: string;
  SoftwareDescription: string;
  /** Installed size as the manager gives it, when it records it: dpkg in KiB (Installed-Size), the others in bytes. */
  Size: number | null;
  /** Package (Linux managers) | Application | Update (Windows). */
  SoftwareType: string;
  /** dpkg | rpm | apk | pacman | windows ... */
  Manager: string;
  /** The manager's own state word (dpkg: installed, config-files, half-installed ...), when it has one. */
  Status: string | null;
  /** ISO 8601 UTC, when the manager records it. */
  InstalledAt: string | null;
}

/** What a source read: its items, and the parts it could not see (key prefixes kept, never Removed). */
export interface SoftwareRead {
  items: SoftwareItem[];
  unseen?: string[];
  warnings?: string[];
}

/** One source of software items; several may be present on one machine. */
export interface SoftwareSource {
  manager: string;
  /** The OSes the source belongs to: under Wine a Windows process sees Linux's dpkg at Z:\\, not its own software. */
  platforms: readonly Platform[];
  /** The key prefixes of its items, unseen when the source cannot be read at all (default `<manager>:`). */
  keyPrefixes?: readonly string[];
  present(host: Host): Promise<boolean>;
  read(host: Host, signal: AbortSignal): Promise<SoftwareRead>;
}

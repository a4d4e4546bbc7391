// Shapes shared by the service sources (systemd, SysV, Windows).
import type { Host } from "../../host/mod.ts";
import type { Platform } from "../../platform.ts";

/** A service item: Log Analytics columns (SPEC §2) plus what the controller adds. */
export interface ServiceItem {
  [field: string]: string | number | boolean | null;
  /** The unit name without `.service` (templates keep their `@`: `getty@`), the script name for SysV. */
  SvcName: string;
  SvcDisplayName: string;
  SvcDescription: string;
  /** Running | Stopped when the service manager can be asked; Unknown when it is not running (never a guess). */
  SvcState: string;
  /** The controller's own enablement word (systemd: enabled, disabled, static, masked, alias, generated ...). */
  SvcStartupType: string;
  SvcAccount: string;
  /** systemd: the unit file (FragmentPath); SysV: the init script; Windows: the binary path as configured. */
  SvcPath: string;
  /** systemd | init (SysV) | windows */
  SvcController: string;
  /**
   * What starts it: the units that want it (systemd's WantedBy, `multi-user.target`), sorted so it never
   * flaps, or `N:on|off` runlevels (SysV); "" on Windows.
   */
  SvcRunlevels: string;
}

export interface ServiceRead {
  items: ServiceItem[];
  warnings: string[];
}

/** One service controller. Exactly one is read per host: the first present for its OS. */
export interface ServiceSource {
  controller: string;
  platforms: readonly Platform[];
  present(host: Host): Promise<boolean>;
  read(host: Host, signal: AbortSignal): Promise<ServiceRead>;
}

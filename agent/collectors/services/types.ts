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
  /** The program the service runs (systemd: the first ExecStart path; SysV: the init script). */
  SvcPath: string;
  /** systemd | sysv | windows */
  SvcController: string;
  /** What starts it: targets (systemd) or `N:on|off` runlevels (SysV), sorted so it never flaps. */
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

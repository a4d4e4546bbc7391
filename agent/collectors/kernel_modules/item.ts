// What one kernel module (or the kernel's taint, or a Windows driver) is, as the store, the page, --once and the
// records show it.

/**
 * A loaded module with what its file says, or (Kind `taint`, Module `kernel`) the running kernel's taint, or (Kind
 * `driver`) a Windows kernel or file system driver.
 */
export type ModuleItem = {
  Kind: "module" | "taint" | "driver";
  /**
   * The module's name, or the driver's service name (not `Name`: that is a column of Microsoft's change table,
   * which a Removed record leaves empty).
   */
  Module: string;
  /** Bytes of memory the module takes. */
  Size: number | null;
  /** References that hold it (lsmod's "Used by" count): moves with every mount or open, never diffed. */
  RefCount: number | null;
  /** The modules that use it, `, ` between them. */
  UsedBy: string | null;
  /** Live, Loading or Unloading; a driver's service state (Running, Stopped …; Unknown in an image). */
  State: string | null;
  /** Taint letters: a module's own (`OE`), or the kernel's (`POE`); null when none. */
  Taint: string | null;
  /** The kernel's taint bitmask (/proc/sys/kernel/tainted); the taint item only. */
  TaintMask: number | null;
  /** The module file (under /lib/modules/<release>), or the driver's ImagePath as configured; null when none. */
  Path: string | null;
  /** The module's version (the kernel's release for the taint item). */
  Version: string | null;
  SrcVersion: string | null;
  License: string | null;
  /** The module's description; for the taint item, what each taint letter means. */
  Description: string | null;
  /** Whether the file ends with an appended signature; null when the file was not read. */
  Signed: boolean | null;
  /** The signing certificate's issuer (modinfo's signer). */
  Signer: string | null;
  /** The signing key's serial or id (modinfo's sig_key). */
  SigKey: string | null;
  SigHashAlgo: string | null;
  /** Why the module's file fields are empty (no file, xz-compressed, not an ELF module …); null when read. */
  FileNote: string | null;
  /** A driver's display name (Windows). */
  DisplayName?: string;
  /** Kernel driver or File system driver (Windows); null when its key could not be read. */
  DriverType?: string | null;
  /** A driver's start type: Boot, System, Auto, Manual, Disabled (Windows). */
  StartType?: string;
  error?: string;
};

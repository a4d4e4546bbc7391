// Windows file DACLs as SDDL: advapi32 GetNamedSecurityInfoW + ConvertSecurityDescriptorToStringSecurityDescriptorW.

const SE_FILE_OBJECT = 1;
const DACL_SECURITY_INFORMATION = 0x4;
const SDDL_REVISION_1 = 1;

const ADVAPI = {
  GetNamedSecurityInfoW: {
    parameters: ["buffer", "u32", "u32", "pointer", "pointer", "pointer", "pointer", "buffer"],
    result: "u32",
  },
  ConvertSecurityDescriptorToStringSecurityDescriptorW: {
    parameters: ["pointer", "u32", "u32", "buffer", "pointer"],
    result: "i32",
  },
} as const;
const KERNEL = {
  LocalFree: { parameters: ["pointer"], result: "pointer" },
  GetLastError: { parameters: [], result: "u32" },
} as const;

let advapi: Deno.DynamicLibrary<typeof ADVAPI>["symbols"] | undefined;
let kernel: Deno.DynamicLibrary<typeof KERNEL>["symbols"] | undefined;

function wide(s: string): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A NUL-terminated UTF-16 string at `p`. */
export function readWide(p: Deno.PointerObject): string {
  const view = new Deno.UnsafePointerView(p);
  const codes: number[] = [];
  for (let at = 0;; at += 2) {
    const c = view.getUint16(at);
    if (c === 0) break;
    codes.push(c);
  }
  let out = "";
  for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode(...codes.slice(i, i + 8192));
  return out;
}

/**
 * The DACL of a file or directory on the running Windows machine as SDDL (`D:PAI(A;;FA;;;SY)(A;;0x1200a9;;;BU)`),
 * as the Windows security APIs write it. Throws an Error naming the path and the Win32 error code.
 */
export function readDaclSddl(path: string): string {
  if (Deno.build.os !== "windows") throw new Error("readDaclSddl() is for Windows only");
  advapi ??= Deno.dlopen("advapi32.dll", ADVAPI).symbols;
  kernel ??= Deno.dlopen("kernel32.dll", KERNEL).symbols;
  const sdOut = new BigUint64Array(1);
  const rc = advapi.GetNamedSecurityInfoW(
    wide(path),
    SE_FILE_OBJECT,
    DACL_SECURITY_INFORMATION,
    null,
    null,
    null,
    null,
    sdOut,
  );
  if (rc !== 0) throw new Error(`cannot read the security descriptor of ${path}: Win32 error ${rc}`);
  const sd = Deno.UnsafePointer.create(sdOut[0]);
  try {
    const textOut = new BigUint64Array(1);
    const ok = advapi.ConvertSecurityDescriptorToStringSecurityDescriptorW(
      sd,
      SDDL_REVISION_1,
      DACL_SECURITY_INFORMATION,
      textOut,
      null,
    );
    if (!ok) {
      throw new Error(`cannot write the DACL of ${path} as SDDL: Win32 error ${kernel.GetLastError()}`);
    }
    const text = Deno.UnsafePointer.create(textOut[0]);
    try {
      return text ? readWide(text) : "";
    } finally {
      kernel.LocalFree(text);
    }
  } finally {
    kernel.LocalFree(sd);
  }
}

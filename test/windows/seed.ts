// Seeding a Windows (Wine) machine for the Windows tests: registry through `regedit /S`, services through `sc`.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** True when the Windows tests can run (Windows Deno, natively or under Wine). */
export const onWindows = Deno.build.os === "windows";
export const SKIP = onWindows
  ? ""
  : "skipped: needs Windows Deno (deno task test:windows runs it under Wine)";
export const named = (name: string) => SKIP ? `${name} (${SKIP})` : name;

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** Imports .reg text (the header is added) with `regedit /S`; a section `[-KEY]` deletes a key, `"v"=-` a value. */
export async function regImport(body: string): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: ".reg" });
  // UTF-16LE with a BOM, as regedit itself exports: an 8-bit file makes Wine's regedit read hex(2)/hex(7) as ANSI.
  const text = "\ufeffWindows Registry Editor Version 5.00\r\n\r\n" + body.replaceAll(/\r?\n/g, "\r\n") +
    "\r\n";
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) new DataView(bytes.buffer).setUint16(i * 2, text.charCodeAt(i), true);
  await Deno.writeFile(file, bytes);
  const r = await run("regedit", ["/S", file]);
  await Deno.remove(file);
  if (r.code !== 0) throw new Error(`regedit /S failed (${r.code}): ${r.out}`);
}

/** `sc ARGS`; throws with sc's output when it fails (unless `allowFail`). */
export async function sc(args: string[], allowFail = false): Promise<string> {
  const r = await run("sc", args);
  if (r.code !== 0 && !allowFail) throw new Error(`sc ${args.join(" ")} failed (${r.code}): ${r.out}`);
  return r.out;
}

/**
 * Marks an Auto service as delayed (Wine's sc has no `start= delayed-auto`): ChangeServiceConfig2W through FFI,
 * else (Wine 8's SCM has no delayed-start level) the DelayedAutostart value where Windows keeps the flag.
 */
export async function setDelayedAutoStart(name: string, delayed: boolean): Promise<"scm" | "registry"> {
  if (changeDelayed(name, delayed)) return "scm";
  await regImport(
    `[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\${name}]\n"DelayedAutostart"=dword:0000000${
      delayed ? 1 : 0
    }\n`,
  );
  return "registry";
}

const SERVICE_API = {
  OpenSCManagerW: { parameters: ["pointer", "pointer", "u32"], result: "pointer" },
  OpenServiceW: { parameters: ["pointer", "buffer", "u32"], result: "pointer" },
  ChangeServiceConfigW: {
    parameters: [
      "pointer",
      "u32",
      "u32",
      "u32",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
    ],
    result: "i32",
  },
  ChangeServiceConfig2W: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  CloseServiceHandle: { parameters: ["pointer"], result: "i32" },
} as const;

/** Opens `name` for SERVICE_CHANGE_CONFIG and hands it to `change`; its answer is whether the change took. */
function changeService(
  name: string,
  change: (api: Deno.DynamicLibrary<typeof SERVICE_API>["symbols"], svc: Deno.PointerObject) => number,
): boolean {
  const lib = Deno.dlopen("advapi32.dll", SERVICE_API);
  try {
    const a = lib.symbols;
    const scm = a.OpenSCManagerW(null, null, 0xf003f);
    if (!scm) throw new Error("OpenSCManager failed");
    const wide = new Uint16Array([...name].map((c) => c.charCodeAt(0)).concat(0));
    const svc = a.OpenServiceW(scm, wide, 0x0002 /* SERVICE_CHANGE_CONFIG */);
    if (!svc) throw new Error(`OpenService ${name} failed`);
    const ok = change(a, svc);
    a.CloseServiceHandle(svc);
    a.CloseServiceHandle(scm);
    return ok !== 0;
  } finally {
    lib.close();
  }
}

function changeDelayed(name: string, delayed: boolean): boolean {
  // 3: SERVICE_CONFIG_DELAYED_AUTO_START_INFO
  return changeService(name, (a, svc) => a.ChangeServiceConfig2W(svc, 3, new Int32Array([delayed ? 1 : 0])));
}

/** Sets a service's start type (2 auto, 3 demand, 4 disabled) through ChangeServiceConfigW: Wine's sc has no `config`. */
export function setStartType(name: string, start: 2 | 3 | 4): void {
  const NO_CHANGE = 0xffffffff;
  const ok = changeService(
    name,
    (a, svc) =>
      a.ChangeServiceConfigW(svc, NO_CHANGE, start, NO_CHANGE, null, null, null, null, null, null, null),
  );
  if (!ok) throw new Error(`ChangeServiceConfigW ${name} failed`);
}

/** UTF-16LE bytes of `s` plus its NUL, as .reg `hex(N):` data. */
export function regUtf16(s: string): string {
  const bytes: string[] = [];
  for (const c of s + "\0") {
    const u = c.charCodeAt(0);
    bytes.push((u & 0xff).toString(16).padStart(2, "0"), (u >> 8).toString(16).padStart(2, "0"));
  }
  return bytes.join(",");
}

/** The .reg lines of a key with one value of every registry type, and the items the collector must give for them. */
export function everyTypeKey(key: string): { reg: string; expected: Record<string, [string, string]> } {
  const reg = [
    `[${key}]`,
    '@="default ☃"',
    '"Sz"="hello \\"world\\" C:\\\\x"',
    `"ExpandSz"=hex(2):${regUtf16("%SystemRoot%\\system32")}`,
    `"MultiSz"=hex(7):${regUtf16("one\0two\0\0")}`,
    '"Dword"=dword:fffffffe',
    '"DwordBE"=hex(5):12,34,56,78',
    '"Qword"=hex(b):ef,cd,ab,89,67,45,23,01',
    '"Binary"=hex:de,ad,be,ef,00,01',
    '"None"=hex(0):',
    '"NoneData"=hex(0):01,02,03',
    `"Link"=hex(6):${regUtf16("\\Registry\\Machine\\Software\\X").replace(/,00,00$/, "")}`,
    '"ResourceList"=hex(8):01,00,00,00',
    '"FullResource"=hex(9):05,06',
    '"ResourceReq"=hex(a):07',
  ].join("\n");
  const expected: Record<string, [string, string]> = {
    "": ["REG_SZ", "default ☃"],
    Sz: ["REG_SZ", 'hello "world" C:\\x'],
    ExpandSz: ["REG_EXPAND_SZ", "%SystemRoot%\\system32"],
    MultiSz: ["REG_MULTI_SZ", "one\ntwo"],
    Dword: ["REG_DWORD", "4294967294"],
    DwordBE: ["REG_DWORD_BIG_ENDIAN", String(0x12345678)],
    Qword: ["REG_QWORD", String(0x0123456789abcdefn)],
    Binary: ["REG_BINARY", "deadbeef0001"],
    None: ["REG_NONE", ""],
    NoneData: ["REG_NONE", "010203"],
    Link: ["REG_LINK", "\\Registry\\Machine\\Software\\X"],
    ResourceList: ["REG_RESOURCE_LIST", "01000000"],
    FullResource: ["REG_FULL_RESOURCE_DESCRIPTOR", "0506"],
    ResourceReq: ["REG_RESOURCE_REQUIREMENTS_LIST", "07"],
  };
  return { reg, expected };
}

/** The repository root: Windows tests run `main.ts` from there so deno.json is found. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface OnceJson<R = Record<string, string>> {
  exitCode: number;
  runs: { collector: string; status: string; warnings: string[]; error: string | null }[];
  changes: R[];
  inventory: Record<string, R[]>;
}

/**
 * Runs `main.ts --once --json --no-ui` with a DCR file and data dir (and `extra` arguments); fails clearly when
 * no JSON comes out.
 */
export async function onceJson<R = Record<string, string>>(
  dcr: string,
  dataDir: string,
  extra: string[] = [],
): Promise<{ code: number; json: OnceJson<R>; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      "main.ts",
      "--once",
      "--json",
      "--dcr",
      dcr,
      "--data-dir",
      dataDir,
      "--no-ui",
      ...extra,
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout), stderr = new TextDecoder().decode(out.stderr);
  try {
    return { code: out.code, json: JSON.parse(stdout), stderr };
  } catch {
    throw new Error(`ctagent --once --json exited ${out.code} without JSON:\n${stdout}\n${stderr}`);
  }
}

/** Writes a file's DACL from SDDL (test seeding: Wine's icacls does not write one). */
export function writeDaclSddl(path: string, sddl: string): void {
  const lib = Deno.dlopen("advapi32.dll", {
    ConvertStringSecurityDescriptorToSecurityDescriptorW: {
      parameters: ["buffer", "u32", "buffer", "pointer"],
      result: "i32",
    },
    SetFileSecurityW: { parameters: ["buffer", "u32", "pointer"], result: "i32" },
  });
  const wide = (s: string) => new Uint16Array([...s].map((c) => c.charCodeAt(0)).concat(0));
  try {
    const sd = new BigUint64Array(1);
    assert.ok(lib.symbols.ConvertStringSecurityDescriptorToSecurityDescriptorW(wide(sddl), 1, sd, null));
    assert.ok(
      lib.symbols.SetFileSecurityW(wide(path), 4, Deno.UnsafePointer.create(sd[0])),
      `SetFileSecurityW ${path}`,
    );
  } finally {
    lib.close();
  }
}

// Runs inside the network namespace build/offline.ts makes: starts ctagent, times it, fetches the page and
// its assets, stops it, prints one JSON report. Imports nothing, so it needs no cache either.
interface ProbeRequest {
  mode: "once" | "serve";
  deno: string;
  script: string;
  /** `deno run` options before the script. */
  runArgs: string[];
  args: string[];
  /** serve: the page to wait for. */
  url?: string;
  /** serve: the page token file (relative to the working directory), to sign in as a browser would. */
  tokenFile?: string;
  timeoutMs: number;
}

const req = JSON.parse(Deno.args[0]) as ProbeRequest;
/** CPU time (user + system, ms) from /proc: a figure that a busy machine inflates far less than wall time. */
function cpuMs(pid: number | "self", children = false): number | null {
  try {
    // fields after the ")" that closes the command name: utime is field 14, cutime 16 (1-based)
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]];
    return (Number(u) + Number(s)) * 10; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
const dec = new TextDecoder();
const t0 = performance.now();
const child = new Deno.Command(req.deno, {
  args: ["run", "-A", ...req.runArgs, req.script, ...req.args],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
const output = child.output();
const report: Record<string, unknown> = {};

if (req.mode === "serve") {
  const deadline = t0 + req.timeoutMs;
  let page: Response | undefined;
  let cookie = "";
  /** Signs in with the token the agent made (the page answers nothing else), as `ctagent page-url` would. */
  const signIn = async () => {
    const token = Deno.readTextFileSync(req.tokenFile!).trim();
    const r = await fetch(`${req.url}?token=${token}`, { redirect: "manual" });
    await r.body?.cancel();
    cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
  };
  while (performance.now() < deadline) {
    try {
      if (req.tokenFile && !cookie) await signIn();
      const r = await fetch(req.url!, { headers: { cookie } });
      if (r.status === 200) {
        page = r;
        break;
      }
      await r.body?.cancel();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  report.firstPageMs = page ? performance.now() - t0 : null;
  report.firstPageCpuMs = page ? cpuMs(child.pid) : null;
  if (page) {
    const body = await page.text();
    report.page = {
      contentType: page.headers.get("content-type"),
      bytes: body.length,
      head: body.slice(0, 200),
    };
    // every local asset the page names (src=, href=), as the browser would load them
    const refs = [...body.matchAll(/\b(?:src|href)=["']([^"'#?]+)[^"']*["']/g)].map((m) => m[1])
      .filter((p) => !/^[a-z]+:/i.test(p) && !p.startsWith("//"));
    const assets = [];
    for (const ref of [...new Set(refs)]) {
      const r = await fetch(new URL(ref, req.url), { headers: { cookie } });
      const bytes = (await r.arrayBuffer()).byteLength;
      assets.push({ path: ref, status: r.status, contentType: r.headers.get("content-type"), bytes });
    }
    report.assets = assets;
    const api = await fetch(new URL("/api/status", req.url), { headers: { cookie } });
    report.apiStatus = { status: api.status, contentType: api.headers.get("content-type") };
    await api.body?.cancel();
  }
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
}

const out = await output;
report.totalMs = performance.now() - t0;
if (req.mode === "once") report.cpuMs = cpuMs("self", true);
report.code = out.code;
report.signal = out.signal;
report.stdout = dec.decode(out.stdout);
report.stderr = dec.decode(out.stderr);
console.log(JSON.stringify(report));

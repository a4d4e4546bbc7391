import assert from "node:assert/strict";
import { pacman, pacmanDbPath, pacmanItem, parsePacmanDesc } from "./pacman.ts";
import { liveHost } from "../../host/mod.ts";

function hasPacman(): boolean {
  try {
    return new Deno.Command("pacman", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}
const HAVE_PACMAN = hasPacman();
if (!HAVE_PACMAN) {
  console.warn(
    "pacman_test.ts: SKIPPED the real-database test: `pacman` absent (apt-get install pacman-package-manager)",
  );
}

const FIXTURE = new URL("./testdata/pacman_local", import.meta.url).pathname;

Deno.test("parsePacmanDesc() and pacmanItem() read an Arch desc file", () => {
  const desc = parsePacmanDesc(Deno.readTextFileSync(`${FIXTURE}/bash-5.2.026-2/desc`));
  assert.deepEqual(desc["DEPENDS"], ["readline", "libreadline.so=8-64", "glibc", "ncurses"]);
  const item = pacmanItem(desc)!;
  assert.deepEqual(
    [item.SoftwareName, item.CurrentVersion, item.Architecture, item.Size, item.Status, item.InstalledAt],
    ["bash", "5.2.026-2", "x86_64", 9381238, "dependency", "2024-05-06T12:53:20.000Z"],
  );
  assert.equal(item.Publisher, "Tobias Powalowski <tpowa@archlinux.org>");
  assert.equal(item.SoftwareDescription, "The GNU Bourne Again shell");
  assert.equal(pacmanItem(parsePacmanDesc("%VERSION%\n1-1\n")), null);
});

Deno.test("pacmanDbPath() honours DBPath in pacman.conf", () => {
  assert.equal(pacmanDbPath(null), "/var/lib/pacman");
  assert.equal(pacmanDbPath("[options]\n#DBPath = /x/\n  DBPath = /srv/pacman/ \n"), "/srv/pacman");
});

Deno.test("pacman source reads the fixture database under a root", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/var/lib/pacman`, { recursive: true });
    await Deno.symlink(FIXTURE, `${root}/var/lib/pacman/local`);
    const host = liveHost({ root });
    assert.equal(await pacman.present(host), true);
    const { items } = await pacman.read(host, new AbortController().signal);
    assert.deepEqual(items.map((i) => i.SoftwareName), ["bash"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** A .pkg.tar with a .PKGINFO, as makepkg writes it (pacman reads plain tar through libarchive). */
async function makePackage(dir: string, info: Record<string, string>): Promise<string> {
  const src = `${dir}/src-${info.pkgname}`;
  await Deno.mkdir(`${src}/usr/share/${info.pkgname}`, { recursive: true });
  await Deno.writeTextFile(`${src}/usr/share/${info.pkgname}/README`, `${info.pkgname}\n`);
  await Deno.writeTextFile(`${src}/.PKGINFO`, Object.entries(info).map(([k, v]) => `${k} = ${v}\n`).join(""));
  const file = `${dir}/${info.pkgname}-${info.pkgver}-${info.arch}.pkg.tar`;
  await run("tar", ["-C", src, "-cf", file, ".PKGINFO", "usr"]);
  return file;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", env: { LC_ALL: "C" } })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "pacman source reads a real pacman database exactly as `pacman -Qi` lists it",
  ignore: !HAVE_PACMAN,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-pacman-" });
    try {
      const common = { builddate: "1700000000", license: "MIT", url: "https://example.org/" };
      const pkgs = [
        {
          pkgname: "hello",
          pkgbase: "hello",
          pkgver: "1:2.12-1",
          pkgdesc: "Prints a friendly greeting",
          arch: "x86_64",
          size: "4096",
          packager: "Arch Tester <tester@example.org>",
        },
        {
          pkgname: "ca-certs",
          pkgbase: "ca-certs",
          pkgver: "20240101-3",
          pkgdesc: "Certificates",
          arch: "any",
          size: "120000",
          packager: "Unknown Packager",
        },
      ];
      const files = await Promise.all(pkgs.map((p) => makePackage(dir, { ...common, ...p })));
      const root = `${dir}/root`, db = `${root}/var/lib/pacman`;
      await Deno.mkdir(db, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/pacman.conf`,
        "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n",
      );
      const base = [
        "--noconfirm",
        "--root",
        root,
        "--dbpath",
        db,
        "--config",
        `${dir}/pacman.conf`,
        "--logfile",
        `${dir}/log`,
        "--cachedir",
        `${dir}/cache`,
      ];
      await run("pacman", ["-U", "--dbonly", "--nodeps", ...base, files[0]]);
      await run("pacman", ["-U", "--dbonly", "--nodeps", "--asdeps", ...base, files[1]]);

      const { items } = await pacman.read(liveHost({ root }), new AbortController().signal);
      const ours = items.map((i) => ({
        Name: i.SoftwareName,
        Version: i.CurrentVersion,
        Description: i.SoftwareDescription,
        Architecture: i.Architecture,
        Packager: i.Publisher,
        "Install Reason": i.Status === "dependency"
          ? "Installed as a dependency for another package"
          : "Explicitly installed",
      }));
      const theirs = (await run("pacman", ["-Qi", ...base])).trim().split("\n\n").map((block) => {
        const f = Object.fromEntries(block.split("\n").map((l) => [l.slice(0, 16).trim(), l.slice(18)]));
        return {
          Name: f["Name"],
          Version: f["Version"],
          Description: f["Description"],
          Architecture: f["Architecture"],
          Packager: f["Packager"],
          "Install Reason": f["Install Reason"],
        };
      });
      const by = (a: { Name: string }, b: { Name: string }) => a.Name.localeCompare(b.Name);
      assert.deepEqual(ours.sort(by), theirs.sort(by));
      assert.equal(items.find((i) => i.SoftwareName === "hello")!.Size, 4096);
      assert.ok(items.every((i) => i.InstalledAt !== null && i.Manager === "pacman"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Helpers of the end-to-end tests: a machine tree with a dpkg status file, captured CLI output.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Io } from "../agent/cli.ts";

export function stanza(name: string, version: string): string {
  return `Package: ${name}\nStatus: install ok installed\nArchitecture: all\nMaintainer: Test <t@example.org>\n` +
    `Version: ${version}\nDescription: test package ${name}\n\n`;
}

export function tree() {
  const dir = Deno.makeTempDirSync({ prefix: "ctagent-e2e-" });
  const root = join(dir, "root");
  const data = join(dir, "data");
  mkdirSync(join(root, "var/lib/dpkg"), { recursive: true });
  const status = join(root, "var/lib/dpkg/status");
  return { dir, root, data, status, write: (text: string) => writeFileSync(status, text) };
}

export function capture(): Io & { outText(): string; errText(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    env: (k) => Deno.env.get(k),
    outText: () => out.join("\n"),
    errText: () => err.join("\n"),
  };
}

// This machine's own tools for the tests: whether one is installed, and a private mount namespace where cron's
// and atd's spools are empty tmpfs mounts, so crontab(1), at(1) and atq run for real without touching its spools.

/** Whether `cmd ARGS` runs and succeeds here. */
export function have(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Why the namespace cannot be made here, or null when it can (root, unshare, the spools to mount over). */
export function namespaceMissing(tools: string[]): string | null {
  if (Deno.uid() !== 0) return "not root";
  if (!have("unshare", ["-m", "true"])) return "unshare -m does not work";
  for (const t of tools) if (!have("sh", ["-c", `command -v ${t}`])) return `${t} is not installed`;
  return null;
}

/** The spools a script finds empty (mode and group as the packages make them). */
const SETUP = `set -e
mount -t tmpfs tmpfs /var/spool/cron/crontabs
chgrp crontab /var/spool/cron/crontabs && chmod 1730 /var/spool/cron/crontabs
if [ -d /var/spool/cron/atjobs ]; then
  mount -t tmpfs tmpfs /var/spool/cron/atjobs
  chown daemon:daemon /var/spool/cron/atjobs && chmod 1770 /var/spool/cron/atjobs
  printf 0 > /var/spool/cron/atjobs/.SEQ && chown daemon:daemon /var/spool/cron/atjobs/.SEQ
  mount -t tmpfs tmpfs /var/spool/cron/atspool
  chown daemon:daemon /var/spool/cron/atspool && chmod 1770 /var/spool/cron/atspool
fi
set +e
`;

/** Runs `script` (sh) in the namespace with `env`; its stdout, or a thrown error with its stderr. */
export function inNamespace(script: string, env: Record<string, string> = {}): string {
  const out = new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "sh", "-c", SETUP + script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `namespace script failed (${out.code}): ${new TextDecoder().decode(out.stderr)}\n${text}`,
    );
  }
  return text;
}

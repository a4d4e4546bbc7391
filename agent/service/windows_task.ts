// Running ctagent at boot on Windows: the Task Scheduler definition and the commands, as pure functions.
//
// Why a scheduled task and not a service: `sc.exe create` needs a service binary, one that calls
// StartServiceCtrlDispatcher and answers the service control manager; a `deno compile` executable does not,
// so the SCM kills it after 30 s (error 1053). Deno gives no supported way to become one. A task at boot
// running as SYSTEM is what Windows itself supports for an ordinary program. (A service wrapper such as WinSW
// or NSSM also works; the README says how. Neither ships with Windows.)

export const TASK_NAME = "ctagent";

/** One argument quoted for CommandLineToArgvW (what the C runtime and Deno use to split the command line). */
export function windowsArg(arg: string): string {
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      slashes++;
      continue;
    }
    // backslashes are literal unless they precede a quote: then each one is doubled
    out += "\\".repeat(ch === '"' ? slashes * 2 + 1 : slashes) + ch;
    slashes = 0;
  }
  return out + "\\".repeat(slashes * 2) + '"';
}

function xml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}

export interface TaskOptions {
  /** The program, an absolute Windows path. */
  command: string;
  args: string[];
  workingDirectory: string;
  version: string;
}

/**
 * The task: starts at boot as SYSTEM with the highest privileges, never stopped for running long (the default
 * limit is 72 h) or for batteries, and a trigger every 5 minutes that restarts the agent if it has died
 * (a second instance is never started: IgnoreNew). Task Scheduler's own RestartOnFailure is kept too, but it
 * only covers a failure to start.
 */
export function taskXml(opts: TaskOptions): string {
  if (!/^[A-Za-z]:\\/.test(opts.command)) {
    throw new TypeError(`The task needs an absolute program path, got ${JSON.stringify(opts.command)}`);
  }
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>ctagent change tracking and inventory agent (written by ctagent service install, ctagent ${
    xml(opts.version)
  })</Description>
    <URI>\\${TASK_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
    </BootTrigger>
    <TimeTrigger>
      <Repetition>
        <Interval>PT5M</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <StartBoundary>2000-01-01T00:00:00</StartBoundary>
      <Enabled>true</Enabled>
    </TimeTrigger>
  </Triggers>
  <Principals>
    <Principal id="System">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="System">
    <Exec>
      <Command>${xml(opts.command)}</Command>
      <Arguments>${xml(opts.args.map(windowsArg).join(" "))}</Arguments>
      <WorkingDirectory>${xml(opts.workingDirectory)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** The XML file schtasks reads: UTF-16LE with a byte-order mark, CRLF lines (what schtasks /XML expects). */
export function encodeTaskFile(text: string): Uint8Array {
  const crlf = text.replace(/\r?\n/g, "\r\n");
  const out = new Uint8Array(2 + crlf.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < crlf.length; i++) {
    const u = crlf.charCodeAt(i);
    out[2 + i * 2] = u & 0xff;
    out[3 + i * 2] = u >> 8;
  }
  return out;
}

/** The program runs of each step, in order: [command, args]. */
export const schtasks = {
  create: (
    xmlFile: string,
  ): [string, string[]] => ["schtasks.exe", ["/Create", "/TN", TASK_NAME, "/XML", xmlFile, "/F"]],
  run: (): [string, string[]] => ["schtasks.exe", ["/Run", "/TN", TASK_NAME]],
  end: (): [string, string[]] => ["schtasks.exe", ["/End", "/TN", TASK_NAME]],
  remove: (): [string, string[]] => ["schtasks.exe", ["/Delete", "/TN", TASK_NAME, "/F"]],
  query: (): [string, string[]] => ["schtasks.exe", ["/Query", "/TN", TASK_NAME, "/FO", "LIST", "/V"]],
};

/** Locks the data directory to SYSTEM and Administrators (by SID, so any display language works). */
export function lockDownDataDir(dir: string): [string, string[]] {
  return ["icacls.exe", [
    dir,
    "/inheritance:r",
    "/grant:r",
    "*S-1-5-18:(OI)(CI)F",
    "*S-1-5-32-544:(OI)(CI)F",
  ]];
}

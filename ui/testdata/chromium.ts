// How tests and the bench start Debian's chromium: headless, and quiet on a machine with no network.
export const CHROMIUM = "/usr/bin/chromium";

/** playwright-core launch options (the background-networking flags stop its calls to unreachable hosts). */
export const LAUNCH = {
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

// Debian's Chromium as the e2e tests and the benchmark launch it (playwright-core cannot
// download browsers here): headless, and quiet on a machine with no network beyond loopback.

/** The browser binary (`apt-get install -y chromium`), or CHROMIUM_BIN. */
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** Flags for every launch: no sandbox (root), no GPU, and no background connections. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

import { existsSync } from "node:fs";

import { chromium, type Browser } from "playwright-core";

/** Debian's chromium (installed by the bootstrap), headless; CHROMIUM_PATH overrides where it is. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (found === undefined) {
    throw new Error(
      "no Chromium found: install Debian's chromium (npm test's bootstrap does) or set CHROMIUM_PATH",
    );
  }
  return found;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox"] });
}

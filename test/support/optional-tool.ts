// Tests that need a tool docs/development.md does not list (Chromium, the real gcloud, Java for the
// Firestore emulator, …): skipped with the install command on a developer's machine, a failure where
// CI=true, so CI always runs them.
// Use: it("…", { skip: optionalTool("chromium", "apt-get install chromium") }, …)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * `false` (run the test) when `command` is on PATH; otherwise the skip reason naming how to install it.
 * Throws where CI=true: a missing tool there is a broken CI image, not a reason to pass.
 */
export function optionalTool(command: string, install: string): false | string {
  const found =
    spawnSync("sh", ["-c", 'command -v "$1"', "sh", command], { encoding: "utf8" }).status === 0;
  if (found) return false;
  if (process.env.CI === "true")
    throw new Error(`${command} not found, and CI=true requires it. Install: ${install}`);
  return `${command} not installed. Install: ${install}`;
}

/** A PATH like this machine's, minus the named commands: a machine where they were never installed.
 * The caller removes the directory. */
export function pathWithout(hidden: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "path-without-"));
  for (const d of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      if (hidden.includes(name)) continue;
      try {
        if (statSync(path.join(d, name)).isFile())
          symlinkSync(path.join(d, name), path.join(dir, name));
      } catch {
        // an earlier PATH entry already provided it, or it is unreadable
      }
    }
  }
  return dir;
}

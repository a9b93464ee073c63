// The README is short and points into docs/: every relative link in README.md, KNOWN_ISSUES.md and
// docs/*.md must name a file that exists and, with a #fragment, a heading in it. Anchors follow
// GitHub's rule (lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats), which is
// what readers click on.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..");
const FILES = [
  "README.md",
  "KNOWN_ISSUES.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Markdown outside fenced code blocks, where a link is a link and a `#` line a heading. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, title] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = title!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

function relativeLinks(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, "");
  const targets = [
    ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]!),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe("documentation links", () => {
  it("finds the README's links into docs/", () => {
    const links = relativeLinks(readFileSync(join(ROOT, "README.md"), "utf8"));
    assert.ok(links.filter((l) => l.startsWith("docs/")).length >= 10, links.join("\n"));
  });

  it("the anchor rule matches GitHub's on headings with code and punctuation", () => {
    const found = anchors(
      "# A\n## On Cloud Run: `TRACING=1`\n## Sessions (`SESSION_STORE`)\n## A\n",
    );
    assert.deepEqual([...found], ["a", "on-cloud-run-tracing1", "sessions-session_store", "a-1"]);
  });

  for (const file of FILES) {
    it(`every relative link in ${file} resolves`, () => {
      const broken: string[] = [];
      for (const link of relativeLinks(readFileSync(join(ROOT, file), "utf8"))) {
        const [path, fragment] = link.split("#") as [string, string | undefined];
        const target = path === "" ? join(ROOT, file) : join(ROOT, dirname(file), path);
        if (!existsSync(target)) {
          broken.push(`${link}: no file ${relative(ROOT, target)}`);
        } else if (fragment !== undefined && !anchors(readFileSync(target, "utf8")).has(fragment)) {
          broken.push(`${link}: no heading #${fragment} in ${relative(ROOT, target)}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});

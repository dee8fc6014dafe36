// Parse Mermaid diagrams with the real Mermaid parser, as a viewer would
// before drawing them: CI runs this on every diagram the tests wrote (the
// folder NAMES_MERMAID_DIR names, one diagram a file) and on the Markdown
// files given (each ```mermaid block), and fails, printing the diagram and
// the parser's error, when one does not parse.
//
//   node tests/mermaid/parse.mjs FOLDER_OR_FILE...
//
// First it parses a diagram known to be broken: if that passes, the check
// itself is broken (the parser not really run), and it fails too.
// Needs `npm ci --prefix tests/mermaid` (mermaid and jsdom; .ci/run does it).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { JSDOM } from "jsdom";

// Mermaid sanitises labels with DOMPurify, which needs a window.
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

const BROKEN = "sequenceDiagram\n    participant C as client\n    C->>: no receiver\n";

/** The diagrams of one file: the whole file (.mmd), or its ```mermaid blocks. */
function diagramsOf(path) {
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".mmd")) {
    return [{ where: path, text }];
  }
  const found = [];
  const block = /^```mermaid\n([\s\S]*?)^```$/gm;
  for (const match of text.matchAll(block)) {
    const line = text.slice(0, match.index).split("\n").length + 1;
    found.push({ where: `${path}:${line}`, text: match[1] });
  }
  return found;
}

function filesOf(path) {
  if (!statSync(path).isDirectory()) {
    return [path];
  }
  return readdirSync(path)
    .filter((name) => name.endsWith(".mmd") || name.endsWith(".md"))
    .sort()
    .map((name) => join(path, name));
}

async function problem(text) {
  try {
    await mermaid.parse(text);
    return null;
  } catch (error) {
    return String(error?.message ?? error);
  }
}

if (process.argv.length < 3) {
  console.error("usage: node tests/mermaid/parse.mjs FOLDER_OR_FILE...");
  process.exit(2);
}
if ((await problem(BROKEN)) === null) {
  console.error("mermaid: a broken diagram parsed: the check does not work");
  process.exit(1);
}
let parsed = 0;
let failed = 0;
for (const argument of process.argv.slice(2)) {
  for (const file of filesOf(argument)) {
    for (const { where, text } of diagramsOf(file)) {
      const why = await problem(text);
      parsed += 1;
      if (why !== null) {
        failed += 1;
        console.error(`mermaid: ${where} does not parse:\n${text}\n${why}\n`);
      }
    }
  }
}
console.log(`mermaid: ${parsed} diagrams parsed, ${failed} did not`);
if (parsed === 0) {
  console.error("mermaid: no diagram was found: the tests wrote none where expected");
  process.exit(1);
}
process.exit(failed === 0 ? 0 : 1);

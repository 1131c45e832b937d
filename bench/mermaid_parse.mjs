#!/usr/bin/env node
// The anchor for benchmark (a): Mermaid's own parse of an ER diagram, in-process.
//
//   node --expose-gc bench/mermaid_parse.mjs [--mermaid-dir tests/mermaid] [--runs N] [--warmup K]
//        FILE[:RUNS[:WARMUP]] ...
//
// Loads Mermaid once (from <mermaid-dir>/node_modules, the pinned 12.3.0 install), with a
// jsdom window on globalThis the way tests/mermaid/dump.mjs does it, then for each file:
// K warm-up calls, then N timed calls of mermaid.mermaidAPI.getDiagramFromText(text)
// (preprocessing, detection, the jison ER parser and ErDB: what Mermaid does before it
// renders). Node start-up and module loading are excluded from the samples and reported
// separately (import_ms). Prints one JSON line per file:
//   {file, bytes, lines, entities, relationships, runs, warmup, samples_ms, cpu_ms,
//    median_ms, min_ms, max_ms, cpu_median_ms, retained_heap_bytes, import_ms, ...}
// retained_heap_bytes: heapUsed growth while the last timed run's Diagram is held, measured
// after global.gc() (needs --expose-gc; null otherwise).
// Exit status 0, or 1 when a file does not parse (the JSON line then has "error").
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';

// Mermaid and its dependencies may print; keep stdout for our JSON only.
const toStderr = (...a) => process.stderr.write(a.map(String).join(' ') + '\n');
for (const k of ['log', 'info', 'warn', 'debug', 'trace']) console[k] = toStderr;
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const here = path.dirname(fileURLToPath(import.meta.url));
let mermaidDir = path.resolve(here, '..', 'tests', 'mermaid');
let defRuns = 5;
let defWarmup = 1;
const specs = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--mermaid-dir') mermaidDir = path.resolve(argv[++i]);
  else if (a === '--runs') defRuns = Number(argv[++i]);
  else if (a === '--warmup') defWarmup = Number(argv[++i]);
  else specs.push(a);
}
if (!specs.length) {
  process.stderr.write('usage: node --expose-gc mermaid_parse.mjs [--runs N] [--warmup K] FILE[:RUNS[:WARMUP]] ...\n');
  process.exit(2);
}

const mroot = path.join(mermaidDir, 'node_modules', 'mermaid');
if (!fs.existsSync(path.join(mroot, 'package.json'))) {
  process.stderr.write(`mermaid is not installed in ${mermaidDir}/node_modules (run: cd ${mermaidDir} && npm ci)\n`);
  process.exit(2);
}
const version = JSON.parse(fs.readFileSync(path.join(mroot, 'package.json'), 'utf8')).version;

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const gc = typeof globalThis.gc === 'function' ? globalThis.gc : null;

const tImport = performance.now();
// DOMPurify (inside Mermaid) wants a window when it is first loaded.
try {
  const require = createRequire(path.join(mermaidDir, 'package.json'));
  const { JSDOM } = require('jsdom');
  const { window } = new JSDOM('<!doctype html><html><body></body></html>');
  globalThis.window = window;
  globalThis.document = window.document;
} catch (e) {
  toStderr(`jsdom not available (${e.message}); continuing without a DOM`);
}
const { default: mermaid } = await import(pathToFileURL(path.join(mroot, 'dist', 'mermaid.core.mjs')).href);
mermaid.initialize({ startOnLoad: false, maxTextSize: 1e9, maxEdges: 1e9 });
const importMs = performance.now() - tImport;

const parseOnce = (text) => mermaid.mermaidAPI.getDiagramFromText(text);

let status = 0;
for (const spec of specs) {
  const m = /^(.*?)(?::(\d+))?(?::(\d+))?$/.exec(spec);
  const file = m[1];
  const runs = m[2] !== undefined ? Number(m[2]) : defRuns;
  const warmup = m[3] !== undefined ? Number(m[3]) : defWarmup;
  const text = fs.readFileSync(file, 'utf8');
  const base = {
    tool: `mermaid@${version} getDiagramFromText`, file: path.basename(file),
    bytes: Buffer.byteLength(text), lines: text.split('\n').length - 1, runs, warmup,
    import_ms: +importMs.toFixed(1), node: process.version,
  };
  let diagram;
  try {
    for (let i = 0; i < warmup; i++) await parseOnce(text);
    const samples = [];
    const cpu = [];
    let retained = null;
    for (let r = 0; r < runs; r++) {
      const last = r === runs - 1;
      let h0 = null;
      if (last && gc) {
        // Mermaid may reuse one ErDB between parses (it clears it on the next parse), so
        // empty the previous run's database before taking the baseline.
        try { diagram?.db?.clear?.(); } catch { /* ignore */ }
        diagram = null;
        gc();
        h0 = process.memoryUsage().heapUsed;
      }
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const d = await parseOnce(text);
      if (!last) diagram = d;
      samples.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e3);
      if (last) {
        diagram = d;
        if (gc) {
          gc();
          retained = process.memoryUsage().heapUsed - h0;
        }
      }
    }
    if (diagram.type !== 'er') throw new Error(`Mermaid detected "${diagram.type}", not "er"`);
    const db = diagram.db;
    emit({
      ...base,
      entities: db.getEntities().size, relationships: db.getRelationships().length,
      samples_ms: samples.map((x) => +x.toFixed(3)), cpu_ms: cpu.map((x) => +x.toFixed(3)),
      median_ms: +median(samples).toFixed(3), min_ms: +Math.min(...samples).toFixed(3),
      max_ms: +Math.max(...samples).toFixed(3), cpu_median_ms: +median(cpu).toFixed(3),
      retained_heap_bytes: retained,
    });
    diagram = null;
  } catch (e) {
    status = 1;
    emit({ ...base, error: String(e?.message ?? e).split('\n')[0] });
  }
}
process.exit(status);

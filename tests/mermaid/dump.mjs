#!/usr/bin/env node
// Test-only helper for erd_lsp: ask the real Mermaid (pinned in ./package.json) what it makes
// of ER diagram texts, and print its verdict and model in the same JSON shape as erd_lsp's
// own export, so the Python tests can compare the two directly.
//
// Protocol: one JSON request per stdin line, {"id": <any>, "text": "<diagram source>"};
// one JSON result per stdout line, in request order, each carrying the request's id:
//
//   {"id", "ok", "diagramType", "error",
//    "entities": [{"name", "alias", "implicit": null,
//                  "attributes": [{"type", "name", "keys", "comment"}]}],
//    "relationships": [{"left", "right", "leftCardinality", "rightCardinality",
//                       "identifying", "label"}],
//    "direction", "accTitle", "accDescr",
//    "classes": {id: {"styles", "textStyles"}},
//    "entityClasses": {name: [class, ...]}, "entityStyles": {name: [style, ...]},
//    "subgraphs": [{"id", "title", "nodes", "dir"}]}
//
// The process stays up until stdin closes, so one node start serves any number of texts.
// Nothing here re-implements Mermaid: the verdict is whatever
// mermaid.mermaidAPI.getDiagramFromText() does (preprocessing, detection, jison parser, ErDB).

// Results go to stdout through `emit` only; anything Mermaid (or a dependency) might print
// through console.* is sent to stderr so that it can never corrupt the result stream.
const toStderr = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
for (const k of ['log', 'info', 'warn', 'debug', 'trace']) console[k] = toStderr;

// DOMPurify (used by Mermaid to sanitize e.g. subgraph titles) needs a window when it is
// first loaded, so the jsdom window must be on globalThis before Mermaid is imported.
const { JSDOM } = await import('jsdom');
const { window } = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

// Mermaid swaps "#word;" / "#123;" for private marker characters before parsing
// ("\uFB02\u00B0" word "\u00B6\u00DF", "\uFB02\u00B0\u00B0" digits "\u00B6\u00DF").
// Report the source spelling instead.
const NUMBER_MARK = /\uFB02\u00B0\u00B0(\d+)\u00B6\u00DF/g;
const WORD_MARK = /\uFB02\u00B0(\w+)\u00B6\u00DF/g;
function decode(s) {
  if (typeof s !== 'string') return s;
  return s.replace(NUMBER_MARK, '#$1;').replace(WORD_MARK, '#$1;');
}
const decodeOrNull = (s) => (s == null || s === '' ? null : decode(s));

function baseResult(id) {
  return {
    id,
    ok: false,
    diagramType: null,
    error: null,
    entities: [],
    relationships: [],
    direction: null,
    accTitle: '',
    accDescr: '',
    classes: {},
    entityClasses: {},
    entityStyles: {},
    subgraphs: [],
  };
}

// "Parse error on line N:\n...\n---^\nExpecting ..., got ..." -> first line + Expecting line.
function errorText(e) {
  const msg = decode(String(e?.message ?? e));
  const lines = msg.split('\n');
  const out = [lines[0]];
  const expecting = lines.find((l, i) => i > 0 && /^Expecting .*, got /.test(l));
  if (expecting) out.push(expecting);
  return out.join('\n');
}

function detectType(text) {
  try {
    return mermaid.detectType(text);
  } catch {
    return null;
  }
}

function modelOf(db, r) {
  const idToName = new Map();
  for (const [name, ent] of db.getEntities()) {
    if (ent.id != null) idToName.set(ent.id, name);
    const n = decode(name);
    r.entities.push({
      name: n,
      alias: decodeOrNull(ent.alias),
      implicit: null,
      attributes: (ent.attributes ?? []).map((a) => ({
        type: decode(a.type),
        name: decode(a.name),
        keys: (a.keys ?? []).map(decode),
        comment: decodeOrNull(a.comment),
      })),
    });
    // cssClasses is a space-separated string that always starts with Mermaid's own "default";
    // keep only the classes the diagram assigned.
    const classes = String(ent.cssClasses ?? '').split(' ').filter(Boolean);
    if (classes[0] === 'default') classes.shift();
    if (classes.length) r.entityClasses[n] = classes.map(decode);
    if (ent.cssStyles?.length) r.entityStyles[n] = ent.cssStyles.map(decode);
  }
  // Relationship endpoints are entity ids ("entity-NAME-N") or subgraph ids.
  const endpoint = (id) => decode(idToName.has(id) ? idToName.get(id) : id);
  for (const rel of db.getRelationships()) {
    r.relationships.push({
      left: endpoint(rel.entityA),
      right: endpoint(rel.entityB),
      // relSpec.cardB is the marker written next to entityA (left), cardA the one next to entityB.
      leftCardinality: rel.relSpec.cardB,
      rightCardinality: rel.relSpec.cardA,
      identifying: rel.relSpec.relType === 'IDENTIFYING',
      label: decode(rel.roleA),
    });
  }
  r.direction = db.getDirection?.() ?? 'TB';
  r.accTitle = decode(db.getAccTitle?.() ?? '');
  r.accDescr = decode(db.getAccDescription?.() ?? '');
  for (const [id, c] of db.getClasses?.() ?? new Map()) {
    r.classes[decode(id)] = { styles: c.styles.map(decode), textStyles: c.textStyles.map(decode) };
  }
  const subgraphs = typeof db.getSubGraphs === 'function' ? db.getSubGraphs() : [];
  r.subgraphs = subgraphs.map((s) => ({
    id: decode(s.id),
    title: decode(s.title),
    nodes: s.nodes.map(decode),
    dir: s.dir ?? null,
  }));
}

async function dump(id, text) {
  const r = baseResult(id);
  let diagram;
  try {
    diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  } catch (e) {
    r.diagramType = detectType(text);
    r.error = errorText(e);
    return r;
  }
  r.diagramType = diagram.type;
  if (diagram.type !== 'er') {
    r.error = `not an erDiagram (Mermaid detected "${diagram.type}")`;
    return r;
  }
  modelOf(diagram.db, r);
  r.ok = true;
  return r;
}

const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const readline = await import('node:readline');
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let id = null;
  try {
    const req = JSON.parse(line);
    id = req?.id ?? null;
    if (typeof req?.text !== 'string') throw new Error('request needs a string "text"');
    emit(await dump(id, req.text));
  } catch (e) {
    // a malformed request or an unexpected failure: report it and keep serving
    const r = baseResult(id);
    r.error = `dump.mjs: ${String(e?.stack ?? e)}`;
    emit(r);
  }
}

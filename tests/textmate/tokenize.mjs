// Tokenize files with VS Code's TextMate engine (vscode-textmate + vscode-oniguruma) and the
// grammars in grammar/, printing the scopes of every token.
//
//   node tokenize.mjs FILE...          text: one block per file, "L:C-C 'text' scopes" per token
//   node tokenize.mjs --json FILE...   JSON: {"FILE": [[{start, end, text, scopes}, ...] per line]}
//
// .mmd / .mermaid files start in source.mermaid.er; .md / .markdown files in
// text.html.markdown (VS Code's Markdown grammar, from the tm-grammars package) with
// grammar/markdown-mermaid-injection.tmLanguage.json injected, as the extension does.
// Front matter is embedded YAML (source.yaml, also from tm-grammars), as in VS Code.
// The root scope is left out of the text output; whitespace-only tokens are skipped there.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = path.dirname(fileURLToPath(import.meta.url));
const grammarDir = process.env.ERD_GRAMMAR_DIR || path.resolve(here, '../../grammar');
const tmGrammars = path.dirname(require.resolve('tm-grammars/grammars/markdown.json'));

const GRAMMARS = {
  'source.mermaid.er': path.join(grammarDir, 'mermaid-er.tmLanguage.json'),
  'markdown.mermaid.er.codeblock': path.join(grammarDir, 'markdown-mermaid-injection.tmLanguage.json'),
  'text.html.markdown': path.join(tmGrammars, 'markdown.json'),
  'source.yaml': path.join(tmGrammars, 'yaml.json'),
};

const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
const onigLib = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength)).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));

const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    const file = GRAMMARS[scopeName];
    if (!file) return null; // other embedded languages of the Markdown grammar: not needed
    return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
  },
  getInjections: (scopeName) => (scopeName === 'text.html.markdown' ? ['markdown.mermaid.er.codeblock'] : undefined),
});

function rootScope(file) {
  return /\.(md|markdown)$/i.test(file) ? 'text.html.markdown' : 'source.mermaid.er';
}

async function tokenize(file) {
  const grammar = await registry.loadGrammar(rootScope(file));
  if (!grammar) throw new Error(`cannot load the grammar for ${file}`);
  const lines = fs.readFileSync(file, 'utf8').split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  let stack = vsctm.INITIAL;
  const out = [];
  for (const line of lines) {
    const r = grammar.tokenizeLine(line, stack, 5000);
    if (r.stoppedEarly) throw new Error(`${file}: tokenizing stopped early (time limit) on: ${line}`);
    stack = r.ruleStack;
    out.push(r.tokens.map((t) => ({
      start: t.startIndex,
      end: Math.min(t.endIndex, line.length),
      text: line.slice(t.startIndex, t.endIndex),
      scopes: t.scopes,
    })));
  }
  return out;
}

function render(lines) {
  const out = [];
  lines.forEach((tokens, i) => {
    const text = tokens.map((t) => t.text).join('');
    out.push(`${i + 1}| ${text}`);
    for (const t of tokens) {
      if (!t.text.trim()) continue;
      out.push(`  ${i + 1}:${t.start}-${t.end} ${JSON.stringify(t.text)} ${t.scopes.slice(1).join(' ')}`);
    }
  });
  return out.join('\n') + '\n';
}

const args = process.argv.slice(2);
const json = args[0] === '--json';
const files = json ? args.slice(1) : args;
if (files.length === 0) {
  process.stderr.write('usage: node tokenize.mjs [--json] FILE...\n');
  process.exit(2);
}
const result = {};
for (const f of files) result[f] = await tokenize(f);
if (json) {
  process.stdout.write(JSON.stringify(result));
} else {
  for (const f of files) {
    if (files.length > 1) process.stdout.write(`== ${f}\n`);
    process.stdout.write(render(result[f]));
  }
}

// Copy the TextMate grammars from the repository's grammar/ (their single source) into
// syntaxes/, where package.json's contributes.grammars points and vsce packages them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.resolve(root, '..', '..', 'grammar');
const target = path.join(root, 'syntaxes');
const files = ['mermaid-er.tmLanguage.json', 'markdown-mermaid-injection.tmLanguage.json'];

fs.mkdirSync(target, { recursive: true });
for (const name of files) {
  const text = fs.readFileSync(path.join(source, name), 'utf8');
  JSON.parse(text); // fail the build on a broken grammar rather than ship it
  fs.writeFileSync(path.join(target, name), text);
  console.log(`syntaxes/${name} <- grammar/${name}`);
}

// Drives code-server (VS Code 1.100 in the browser) with the erd-lsp extension installed,
// through headless Chromium + playwright-core, and checks what a person would see:
//   1. state.md (seed 003): the Problems panel lists the two E002 conflict diagnostics
//      -> screenshot artifacts/diagnostics.png
//   2. shop.mmd is in the Mermaid language mode, the status bar item says erd-lsp is running,
//      and the braces of cardinalities (o{, |{) are not colored as brackets (.mmd and Markdown)
//   3. F12 on an entity in a relationship moves the cursor to its declaration
//   4. Ctrl+Space after a cardinality offers the entity names
//   5. a Python without erd_lsp in erdLsp.pythonPath: an error message naming the setting and
//      the status bar item in the error state; the right Python again: running again
// Started by run-code-server.sh, which sets CS_URL, OUT_DIR, ERD_PYTHON_PATH and CHROMIUM.
// Prints one line per check and "code-server: N passed, N failed"; exit code 1 on a failure.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const URL = process.env.CS_URL;
const OUT = process.env.OUT_DIR;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PYTHON = process.env.ERD_PYTHON_PATH; // the Python with erd_lsp (restored in step 5)
if (!URL || !OUT || !PYTHON) {
  console.error('CS_URL, OUT_DIR and ERD_PYTHON_PATH must be set (run run-code-server.sh)');
  process.exit(2);
}
fs.mkdirSync(OUT, { recursive: true });

const results = [];
function record(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` -- ${detail}` : ''}`);
}

async function poll(fn, timeoutMs, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn().catch(() => undefined);
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return last;
}

async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { timeout: 15000 });
  await page.keyboard.type(name);
  // Enter before the result row exists does nothing: click the row
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click({ timeout: 20000 });
  await page.waitForSelector(`.tab.active[aria-label*="${name}"]`, { timeout: 15000 });
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 15000 });
}

async function gotoLine(page, where) {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget input', { timeout: 10000 });
  await page.keyboard.type(where);
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
}

async function statusText(page, id) {
  return (await page.locator(`[id="${id}"]`).first().textContent({ timeout: 2000 }))?.trim() ?? '';
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
const consoleErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error') consoleErrors.push(m.text().slice(0, 300));
});

try {
  await page.goto(URL);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await page.waitForTimeout(3000);
  console.log('workbench loaded');

  // 1. diagnostics on seed 003 (Markdown with two unresolved Git conflicts)
  await openFile(page, 'state.md');
  const problems = await poll(async () => {
    const label = await page.locator('[id="status.problems"]').first().getAttribute('aria-label', { timeout: 2000 });
    return label && /Errors?:\s*[1-9]/i.test(label) ? label : undefined;
  }, 90000);
  record('the status bar counts errors for state.md', Boolean(problems), problems ?? 'no errors reported');

  await page.keyboard.press('Control+Shift+M');
  await page.waitForSelector('.markers-panel', { timeout: 15000 });
  const rows = page.locator('.markers-panel .monaco-list-row', { hasText: 'E002' });
  const count = await poll(async () => ((await rows.count()) >= 2 ? rows.count() : undefined), 30000);
  const texts = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  record('the Problems panel lists two E002 conflict diagnostics', count === 2 && texts.every((t) => /conflict/i.test(t)),
    `${count ?? 0} rows: ${texts.join(' | ')}`);

  // show the first conflict in the editor next to the Problems panel
  await gotoLine(page, '82');
  const squiggles = await poll(async () => {
    const n = await page.locator('.monaco-editor .squiggly-error').count();
    return n > 0 ? n : undefined;
  }, 15000);
  record('the conflict is underlined in the editor', Boolean(squiggles), `${squiggles ?? 0} error squiggles`);
  await page.mouse.move(5, 5);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, 'diagnostics.png') });
  await gotoLine(page, '116');
  const mdLine = await page.locator('.view-line', { hasText: 'run ||--o{ logs' }).first().innerHTML({ timeout: 5000 });
  record('the { of o{ is not colored as a bracket in a Markdown fence', !/unexpected-closing-bracket/.test(mdLine) && /o\{</.test(mdLine),
    mdLine.replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').trim());

  // 2. language mode and the status bar item
  await openFile(page, 'shop.mmd');
  const mode = await poll(async () => {
    const t = await statusText(page, 'status.editor.mode');
    return t ? t : undefined;
  }, 10000);
  record('shop.mmd is in the Mermaid language mode', /mermaid/i.test(mode ?? ''), `language mode: ${mode}`);
  const item = page.locator('.statusbar-item', { hasText: 'erd-lsp' }).first();
  const itemLabel = await poll(async () => {
    const label = await item.getAttribute('aria-label', { timeout: 2000 });
    return label && /running/.test(label) ? label : undefined;
  }, 30000);
  record('the erd-lsp status bar item says running', Boolean(itemLabel), itemLabel ?? 'not running');

  const mmdLine = await page.locator('.view-line', { hasText: 'CUSTOMER ||--o{ ORDER' }).first().innerHTML();
  record('the { of o{ is not colored as a bracket in shop.mmd', !/unexpected-closing-bracket/.test(mmdLine) && /o\{</.test(mmdLine),
    mmdLine.replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').trim());
  // 3. go to definition: ORDER in `ORDER ||--|{ LINE_ITEM : contains` (line 15) -> `ORDER {` (line 6)
  await gotoLine(page, '15:6');
  const before = await statusText(page, 'status.editor.selection');
  await page.keyboard.press('F12');
  const after = await poll(async () => {
    const t = await statusText(page, 'status.editor.selection');
    return /Ln 6\b/.test(t) ? t : undefined;
  }, 15000);
  const where = after ?? (await statusText(page, 'status.editor.selection'));
  record('F12 on ORDER goes to its declaration (line 6)', Boolean(after), `cursor ${before} -> ${where}`);
  await page.screenshot({ path: path.join(OUT, 'definition.png') });

  // 4. completion: after `CUSTOMER ||--o{ ` the entity names are offered
  await gotoLine(page, '16:1');
  await page.keyboard.type('    CUSTOMER ||--o{ LI', { delay: 30 });
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  await page.keyboard.press('Control+Space');
  const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'LINE_ITEM' }).first();
  const shown = await suggestion.waitFor({ state: 'visible', timeout: 20000 }).then(() => true, () => false);
  const offered = (await page.locator('.suggest-widget .monaco-list-row').allTextContents()).map((t) => t.trim()).slice(0, 8);
  record('Ctrl+Space offers the entity LINE_ITEM', shown, `suggestions: ${offered.join(' | ') || '(none)'}`);
  await page.screenshot({ path: path.join(OUT, 'completion.png') });

  // 5. a broken erdLsp.pythonPath, then the right one, typed into the Settings editor
  //    (a change of the setting restarts the server)
  const itemState = async (re) => {
    const label = await item.getAttribute('aria-label', { timeout: 2000 });
    return label && re.test(label) ? label : undefined;
  };
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+,');
  await page.waitForSelector('.settings-editor', { timeout: 15000 });
  await page.waitForTimeout(1000);
  await page.keyboard.type('@id:erdLsp.pythonPath');
  // a machine-overridable setting: in code-server the Settings editor shows it under "Remote"
  await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: 'Remote' }).first().click({ timeout: 10000 });
  await page.waitForTimeout(1500); // the tab switch re-renders the list
  const input = page.locator('.settings-editor .setting-item-text .setting-item-control input').first();
  const typeSetting = async (value) => {
    await input.click({ timeout: 15000 });
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(value, { delay: 10 });
    await page.keyboard.press('Tab');
  };
  await typeSetting('/nonexistent/python3');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'erdLsp.pythonPath does not work' }).first();
  const toastShown = await toast.waitFor({ state: 'visible', timeout: 30000 }).then(() => true, () => false);
  const errorLabel = await poll(() => itemState(/error/), 10000);
  const toastText = toastShown ? (await toast.innerText()).replace(/\s+/g, ' ').trim() : 'no message';
  record('a Python without erd-lsp: an error message with "Open settings", status item in error',
    toastShown && /Open settings/.test(toastText) && Boolean(errorLabel), `${toastText} | ${errorLabel ?? 'no error state'}`);
  await page.screenshot({ path: path.join(OUT, 'server-missing.png') });
  await typeSetting(PYTHON);
  const runningAgain = errorLabel ? await poll(() => itemState(/running/), 30000) : undefined;
  record('the right Python again: the server restarts and runs', Boolean(runningAgain), runningAgain ?? 'not running');
} catch (e) {
  record('the browser session ran to the end', false, e instanceof Error ? e.message.split('\n')[0] : String(e));
  await page.screenshot({ path: path.join(OUT, 'failure.png') }).catch(() => {});
} finally {
  await browser.close();
}

const failed = results.filter((r) => !r.ok).length;
if (failed && consoleErrors.length) {
  console.log('browser console errors (404s for marketplace assets are expected offline):');
  for (const e of consoleErrors.slice(0, 15)) console.log(`  ${e}`);
}
console.log(`code-server: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// VS Code client for erd-lsp, the language server for Mermaid ER diagrams.
//
// Starts the server found by discovery.ts over stdio for `mermaid` (.mmd, .mermaid) and
// `markdown` documents, passes erdLsp.select / erdLsp.ignore as initializationOptions,
// restarts it when those settings change or on "erd-lsp: Restart Server", and shows its
// state in a status bar item (click: restart).
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { Discovery, findServer, ServerCommand } from './discovery';

const SECTION = 'erdLsp';
const RESTART = 'erdLsp.restartServer';
const SHOW_OUTPUT = 'erdLsp.showOutput';
/** settings read at start-up: a change restarts the server (trace is applied live by the client) */
const RESTART_SETTINGS = ['serverPath', 'pythonPath', 'select', 'ignore'];

type Phase = 'starting' | 'running' | 'stopped' | 'error';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let traceOutput: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let current: ServerCommand | undefined;
/** start/stop/restart run one after another, never interleaved */
let queue: Promise<void> = Promise.resolve();

function enqueue(job: () => Promise<void>): Promise<void> {
  queue = queue.then(job, job).catch((e) => {
    output.error(e instanceof Error ? e.stack ?? e.message : String(e));
  });
  return queue;
}

function setPhase(phase: Phase, detail?: string): void {
  const icon = { starting: '$(sync~spin)', running: '$(check)', stopped: '$(circle-slash)', error: '$(error)' }[phase];
  status.text = `${icon} erd-lsp`;
  const lines = [`erd-lsp: ${phase}`];
  if (current && phase !== 'error') {
    lines.push(`${current.version} (${[current.command, ...current.args].join(' ')}, from ${current.source})`);
  }
  if (detail) {
    lines.push(detail);
  }
  lines.push('Click to restart the server');
  status.tooltip = lines.join('\n');
  status.backgroundColor = phase === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  status.accessibilityInformation = { label: `erd-lsp ${phase}` };
}

function describeFailure(found: Discovery): string {
  const tried = found.attempts.map((a) => `  - ${a.source}: ${a.commandLine}: ${a.problem}`).join('\n');
  return `Could not start the erd-lsp language server. Tried:\n${tried || '  (nothing)'}`;
}

async function reportMissingServer(found: Discovery): Promise<void> {
  output.error(describeFailure(found));
  output.info(
    'Install it into a Python environment (`pip install erd-lsp`), then set "erdLsp.pythonPath" to that ' +
      'environment\'s python, or "erdLsp.serverPath" to its erd-lsp executable.',
  );
  const first = found.attempts[0];
  const message = found.explicit && first
    ? `erd-lsp: ${first.source} does not work (${first.commandLine}: ${first.problem}).`
    : 'erd-lsp: no language server found. Install erd-lsp (pip install erd-lsp) and set "erdLsp.pythonPath" ' +
      'to its Python, or "erdLsp.serverPath" to the erd-lsp executable.';
  const choice = await vscode.window.showErrorMessage(message, 'Open settings', 'Show output');
  if (choice === 'Open settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
  } else if (choice === 'Show output') {
    output.show(true);
  }
}

/** erdLsp.select / erdLsp.ignore as initializationOptions; an empty list is left out (for the
 * server an empty `select` would mean "no rule at all"). */
function ruleOptions(config: vscode.WorkspaceConfiguration): Record<string, string[]> {
  const options: Record<string, string[]> = {};
  for (const key of ['select', 'ignore']) {
    const value = config.get<unknown>(key);
    if (Array.isArray(value)) {
      const codes = value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
      if (codes.length) {
        options[key] = codes;
      }
    }
  }
  return options;
}

async function start(): Promise<void> {
  current = undefined;
  setPhase('starting');
  const config = vscode.workspace.getConfiguration(SECTION);
  const found = await findServer(config, vscode.window.activeTextEditor?.document.uri);
  if (!found.server) {
    setPhase('error', describeFailure(found));
    void reportMissingServer(found);
    return;
  }
  current = found.server;
  output.info(`starting ${current.version}: ${[current.command, ...current.args].join(' ')} (from ${current.source})`);

  const serverOptions: ServerOptions = {
    command: current.command,
    args: current.args,
    options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: process.env },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'mermaid' },
      { scheme: 'untitled', language: 'mermaid' },
      { scheme: 'file', language: 'markdown' },
      { scheme: 'untitled', language: 'markdown' },
    ],
    initializationOptions: ruleOptions(config),
    outputChannel: output,
    traceOutputChannel: traceOutput,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  const c = new LanguageClient(SECTION, 'erd-lsp', serverOptions, clientOptions);
  c.onDidChangeState((e) => {
    if (client !== c) {
      return; // an old client, being replaced
    }
    if (e.newState === State.Running) {
      setPhase('running');
    } else if (e.newState === State.Starting) {
      setPhase('starting');
    } else if (e.newState === State.Stopped) {
      setPhase('stopped', 'The server stopped. See "erd-lsp: Show Output".');
    }
  });
  client = c;
  try {
    await c.start();
    setPhase('running');
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    output.error(`the server failed to start: ${message}`);
    setPhase('error', message);
    const choice = await vscode.window.showErrorMessage(`erd-lsp: the server failed to start: ${message}`, 'Show output', 'Open settings');
    if (choice === 'Show output') {
      output.show(true);
    } else if (choice === 'Open settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
    }
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (!c) {
    return;
  }
  try {
    if (c.isRunning()) {
      await c.stop(3000);
    }
  } catch (e) {
    output.warn(`stopping the server: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    await c.dispose(1000);
  } catch {
    // already stopped
  }
  setPhase('stopped');
}

export function activate(context: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel('erd-lsp', { log: true });
  traceOutput = vscode.window.createOutputChannel('erd-lsp trace', { log: true });
  status = vscode.window.createStatusBarItem('erdLsp.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'erd-lsp';
  status.command = RESTART;
  setPhase('stopped');
  status.show();

  context.subscriptions.push(
    output,
    traceOutput,
    status,
    vscode.commands.registerCommand(RESTART, () =>
      enqueue(async () => {
        output.info('restarting');
        await stop();
        await start();
      }),
    ),
    vscode.commands.registerCommand(SHOW_OUTPUT, () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(`${SECTION}.${s}`))) {
        void vscode.commands.executeCommand(RESTART);
      }
    }),
  );
  void enqueue(start);
}

export function deactivate(): Thenable<void> | undefined {
  return enqueue(stop);
}

// Finding the erd-lsp server to start.
//
// Order: erdLsp.serverPath (an executable, started with no arguments) -> erdLsp.pythonPath
// (`python -m erd_lsp`) -> the interpreter selected in the Python extension, when that
// extension is installed -> python3, then python, from PATH. Every candidate must answer
// `--version` with "erd-lsp ..." before it is used. A candidate the user configured
// explicitly is never silently replaced by another: when it does not work, that is the error.
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface ServerCommand {
  command: string;
  args: string[];
  /** where the command came from, for messages: "erdLsp.pythonPath", "PATH", ... */
  source: string;
  /** what `--version` printed, e.g. "erd-lsp 0.1.0" */
  version: string;
}

export interface Attempt {
  source: string;
  commandLine: string;
  problem: string;
}

export interface Discovery {
  server?: ServerCommand;
  attempts: Attempt[];
  /** true when the failed candidate was set explicitly in the settings */
  explicit: boolean;
}

/** Expands `~`, `${userHome}` and `${workspaceFolder}` in a configured path. */
export function expandPath(value: string): string {
  let out = value.trim();
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
    out = path.join(os.homedir(), out.slice(1));
  }
  out = out.replace(/\$\{userHome\}/g, os.homedir());
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder);
  }
  return out;
}

type Probe = { ok: true; version: string } | { ok: false; problem: string };

/** Runs `command ...args --version` and checks that it is erd-lsp. */
export function probe(command: string, args: string[], timeoutMs = 20000): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args, '--version'],
      { timeout: timeoutMs, windowsHide: true, env: process.env },
      (error, stdout, stderr) => {
        const out = String(stdout ?? '').trim();
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            resolve({ ok: false, problem: 'not found' });
            return;
          }
          if (code === 'EACCES') {
            resolve({ ok: false, problem: 'not executable' });
            return;
          }
          if (error.killed) {
            resolve({ ok: false, problem: `no answer to --version within ${timeoutMs / 1000} s` });
            return;
          }
          const lines = String(stderr ?? '').trim().split(/\r?\n/).filter((l) => l.trim());
          resolve({ ok: false, problem: lines.length ? lines[lines.length - 1] : error.message });
          return;
        }
        if (!/^erd-lsp\b/.test(out)) {
          resolve({ ok: false, problem: `--version printed ${JSON.stringify(out.slice(0, 80))}, not "erd-lsp ..."` });
          return;
        }
        resolve({ ok: true, version: out.split(/\r?\n/)[0] });
      },
    );
  });
}

/** The interpreter selected in the Python extension (ms-python.python), if it is installed. */
async function pythonFromExtension(resource?: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (!extension) {
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    if (environments?.getActiveEnvironmentPath) {
      const active = environments.getActiveEnvironmentPath(resource);
      const resolved = environments.resolveEnvironment ? await environments.resolveEnvironment(active) : undefined;
      const executable: string | undefined = resolved?.executable?.uri?.fsPath ?? active?.path;
      if (executable) {
        return executable;
      }
    }
    // the older API
    const command: unknown = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (Array.isArray(command) && command.length === 1 && typeof command[0] === 'string') {
      return command[0];
    }
  } catch {
    // the Python extension is optional: any failure just means "no interpreter from it"
  }
  return undefined;
}

function commandLine(command: string, args: string[]): string {
  return [command, ...args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

export async function findServer(config: vscode.WorkspaceConfiguration, resource?: vscode.Uri): Promise<Discovery> {
  const attempts: Attempt[] = [];
  const tryOne = async (source: string, command: string, args: string[]): Promise<ServerCommand | undefined> => {
    const result = await probe(command, args);
    if (result.ok) {
      return { command, args, source, version: result.version };
    }
    attempts.push({ source, commandLine: commandLine(command, args), problem: result.problem });
    return undefined;
  };
  const moduleArgs = ['-m', 'erd_lsp'];

  const serverPath = expandPath(config.get<string>('serverPath', '') ?? '');
  if (serverPath) {
    const server = await tryOne('erdLsp.serverPath', serverPath, []);
    return { server, attempts, explicit: !server };
  }
  const pythonPath = expandPath(config.get<string>('pythonPath', '') ?? '');
  if (pythonPath) {
    const server = await tryOne('erdLsp.pythonPath', pythonPath, moduleArgs);
    return { server, attempts, explicit: !server };
  }
  const fromExtension = await pythonFromExtension(resource);
  if (fromExtension) {
    const server = await tryOne('the Python extension\'s interpreter', fromExtension, moduleArgs);
    if (server) {
      return { server, attempts, explicit: false };
    }
  }
  for (const python of process.platform === 'win32' ? ['python', 'py'] : ['python3', 'python']) {
    const server = await tryOne('PATH', python, moduleArgs);
    if (server) {
      return { server, attempts, explicit: false };
    }
  }
  return { attempts, explicit: false };
}

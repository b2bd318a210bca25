import { readFile } from 'node:fs/promises';
import type { Output } from './cli-context';
import { CliError } from './cli-error';
import type { DefinitionEntry, DefinitionProblem } from '../operations/definitions';

/** How one kind of definition file (tenants, merchants, platforms) is validated. */
export interface DefinitionKind<T> {
  /** The command, for the usage error: "apply", "merchants apply", ... */
  command: string;
  /** The identity field, for duplicate detection: "appid", "mchid", "componentAppid". */
  keyName: string;
  keyOf(d: T): string;
  parse(entry: unknown, source: string): T;
  /** The field problems of a validation error this kind throws, or undefined for any other error. */
  problemsOf(err: unknown): { source: string; lines: string[] } | undefined;
}

/**
 * Reads and validates every file (one object, or an array of them) before anything is written: one
 * bad file means no change at all. Every problem is reported, by file and field, never with a value.
 */
export async function loadDefinitionFiles<T>(files: string[], io: Output, kind: DefinitionKind<T>): Promise<T[]> {
  if (files.length === 0) throw new CliError(`${kind.command} needs at least one <file.json>`, 2);
  const defs: T[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      problems.push(`${file}: cannot read JSON: ${readProblem(err)}`);
      continue;
    }
    const entries = Array.isArray(raw) ? raw : [raw];
    entries.forEach((entry, i) => {
      try {
        defs.push(kind.parse(entry, Array.isArray(raw) ? `${file}[${i}]` : file));
      } catch (err) {
        const p = kind.problemsOf(err);
        if (!p) throw err;
        problems.push(`${p.source}: invalid fields:`);
        for (const line of p.lines) problems.push(`  ${line}`);
      }
    });
  }
  const seen = new Set<string>();
  for (const d of defs) {
    const key = kind.keyOf(d);
    if (seen.has(key)) problems.push(`${kind.keyName} ${key} is defined more than once`);
    seen.add(key);
  }
  if (problems.length) {
    for (const p of problems) io.err(p);
    throw new CliError('nothing was written');
  }
  return defs;
}

/**
 * Why a definition file could not be read. A JSON syntax error's own message quotes the text around
 * the error, which may be a secret: only its position is told.
 */
export function readProblem(err: unknown): string {
  if (!(err instanceof SyntaxError)) return (err as Error).message;
  const at = /at position (\d+)/.exec(err.message)?.[1];
  return `not valid JSON${at ? ` (error at character ${at})` : ''}`;
}

/**
 * Reads definition files (one object, or an array of them) as entries for validateDefinitions; a
 * file that cannot be read is a problem of its own, so every problem is reported in one go.
 */
export async function readDefinitionFiles(files: string[], command: string): Promise<{ entries: DefinitionEntry[]; problems: DefinitionProblem[] }> {
  if (files.length === 0) throw new CliError(`${command} needs at least one <file.json>`, 2);
  const entries: DefinitionEntry[] = [];
  const problems: DefinitionProblem[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      problems.push({ source: file, message: `cannot read JSON: ${readProblem(err)}` });
      continue;
    }
    if (Array.isArray(raw)) raw.forEach((value, i) => entries.push({ value, source: `${file}[${i}]` }));
    else entries.push({ value: raw, source: file });
  }
  return { entries, problems };
}

/** Definition problems as the CLI prints them: `<file>: invalid fields:` then one indented line per field. */
export function printProblems(io: Output, problems: readonly DefinitionProblem[]): void {
  let heading: string | undefined;
  for (const p of problems) {
    if (p.path === undefined) {
      io.err(`${p.source}: ${p.message}`);
      heading = undefined;
      continue;
    }
    if (heading !== p.source) io.err(`${p.source}: invalid fields:`);
    heading = p.source;
    io.err(`  ${p.path}: ${p.message}`);
  }
}

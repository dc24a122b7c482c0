// Runs PostgreSQL's parser (libpg-query, WebAssembly) in a child Node process started with
// `--liftoff-only`, and talks to it over stdin/stdout, one JSON line per request.
//
// Why a process of its own: after a few dozen statements V8 tiers the parser's huge
// generated functions up to its optimising compiler in the background, which costs about
// 4 s of CPU and 650 MB, and Node waits for that compile to finish before the process may
// exit, even on process.exit() (measured on Node 24: 0.3 s without it, 8-10 s with it on a
// loaded two-core runner). The only switch is a V8 command-line flag, which an action run
// as `node dist/<name>/index.js` cannot pass to itself: so the parser gets a process it can
// pass it to. Liftoff (V8's baseline wasm compiler) parses a rollback's few hundred
// statements in well under a second.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParseResult, ScanResult } from 'libpg-query';

/** A token of PostgreSQL's scanner; `start`/`end` are byte offsets into the UTF-8 text. */
export type ScanToken = ScanResult['tokens'][number];

export type ParserReply<T> = { ok: true; value: T } | { ok: false; message: string };

/** Files a bundle ships beside its index.js (scripts/build.mjs extraFiles) for the parser. */
export const BUNDLED_GLUE = 'libpg-query.cjs';
export const BUNDLED_WASM = 'libpg-query.wasm';

// The child: loads libpg-query's Emscripten glue (CommonJS) with the .wasm located explicitly,
// then answers {id, op, texts} with {id, replies}. The struct layout read here is the one
// libpg-query's own parseSync and scanSync read (wasm/index.cjs of the version pinned exactly in package.json: update both together).
const CHILD_SOURCE = String.raw`
const [gluePath, wasmPath] = process.argv.slice(1);
const glue = require(gluePath);
const factory = typeof glue === 'function' ? glue : glue.default;
factory({ locateFile: () => wasmPath }).then((m) => {
  const withText = (text, use) => {
    const size = m.lengthBytesUTF8(text) + 1;
    const pointer = m._malloc(size);
    try { m.stringToUTF8(text, pointer, size); return use(pointer); } finally { m._free(pointer); }
  };
  const ops = {
    parse: (text) => withText(text, (pointer) => {
      const result = m._wasm_parse_query_raw(pointer);
      if (!result) throw new Error('the parser could not allocate memory');
      try {
        const tree = m.getValue(result, 'i32');
        const error = m.getValue(result + 8, 'i32');
        if (error) {
          const message = m.getValue(error, 'i32');
          throw new Error(message ? m.UTF8ToString(message) : 'unknown parse error');
        }
        if (!tree) throw new Error('no parse tree');
        return JSON.parse(m.UTF8ToString(tree));
      } finally { m._wasm_free_parse_result(result); }
    }),
    scan: (text) => withText(text, (pointer) => {
      const result = m._wasm_scan(pointer);
      try { return JSON.parse(m.UTF8ToString(result)); } finally { if (result) m._wasm_free_string(result); }
    }),
  };
  require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
    const request = JSON.parse(line);
    const replies = request.texts.map((text) => {
      try { return { ok: true, value: ops[request.op](text) }; } catch (error) { return { ok: false, message: String(error && error.message || error) }; }
    });
    process.stdout.write(JSON.stringify({ id: request.id, replies }) + '\n');
  }).on('close', () => process.exit(0));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}, (error) => {
  process.stderr.write('libpg-query could not start: ' + (error && error.message || error) + '\n');
  process.exit(1);
});
`;

/** Where the glue and the .wasm are: beside the bundle, or in node_modules when run from source. */
function locateParserFiles(): { glue: string; wasm: string } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = { glue: path.join(here, BUNDLED_GLUE), wasm: path.join(here, BUNDLED_WASM) };
  if (fs.existsSync(bundled.glue) && fs.existsSync(bundled.wasm)) return bundled;
  // process.getBuiltinModule keeps ncc from trying to bundle what this resolves.
  const { createRequire } = process.getBuiltinModule('node:module');
  try {
    const glue = createRequire(import.meta.url).resolve('libpg-query/wasm/libpg-query.js');
    return { glue, wasm: path.join(path.dirname(glue), 'libpg-query.wasm') };
  } catch {
    throw new Error(
      `The PostgreSQL parser's files are missing: neither ${BUNDLED_GLUE} and ${BUNDLED_WASM} beside ${here} (a bundle gets them from scripts/build.mjs extraFiles) nor the libpg-query package in node_modules.`,
    );
  }
}

interface Pending {
  resolve: (replies: ParserReply<unknown>[]) => void;
  reject: (error: Error) => void;
}

class ParserProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let stderr = '';
    let buffered = '';
    let markReady: () => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A start-up failure is reported to whoever requests next; until then it is not unhandled.
    this.ready.catch(() => undefined);
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const message = JSON.parse(line) as { ready?: boolean; id?: number; replies?: ParserReply<unknown>[] };
        if (message.ready) {
          markReady();
          this.idle();
          continue;
        }
        const waiting = this.pending.get(message.id ?? -1);
        if (!waiting) continue;
        this.pending.delete(message.id ?? -1);
        waiting.resolve(message.replies ?? []);
        if (this.pending.size === 0) this.idle();
      }
    });
    const fail = (reason: string): void => {
      this.failure = new Error(
        `The PostgreSQL parser (libpg-query) stopped: ${reason}${stderr ? `: ${stderr.trim()}` : ''}`,
      );
      failStart(this.failure);
      for (const waiting of this.pending.values()) waiting.reject(this.failure);
      this.pending.clear();
      if (current === this) current = undefined;
    };
    child.on('error', (error) => fail(error.message));
    child.on('exit', (code, signal) => fail(signal ? `killed by ${signal}` : `exited with code ${code}`));
    // Nothing of ours may outlive the caller: the child ends when our end of its stdin closes.
    process.once('exit', () => child.kill());
  }

  async request<T>(op: 'parse' | 'scan', texts: readonly string[]): Promise<ParserReply<T>[]> {
    if (texts.length === 0) return [];
    await this.ready;
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const replies = new Promise<ParserReply<unknown>[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.busy();
    this.child.stdin.write(`${JSON.stringify({ id, op, texts })}\n`);
    return (await replies) as ParserReply<T>[];
  }

  /**
   * While a request is outstanding the pipes keep our event loop alive (an awaited reply
   * is not enough on its own); when idle they must not, or the caller could never exit.
   */
  private busy(): void {
    this.child.ref();
    pipe(this.child.stdout).ref();
  }

  private idle(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) pipe(stream).unref();
  }
}

/** A child's stdio streams are sockets, which can be ref'd and unref'd; their stream types do not say so. */
function pipe(stream: NodeJS.ReadableStream | NodeJS.WritableStream): { ref(): void; unref(): void } {
  return stream as unknown as { ref(): void; unref(): void };
}

/**
 * The parser in this very process: only where Node was started with `--liftoff-only`
 * (src/actions/common/liftoff.ts relaunches the rollback action so), since only then does it
 * neither tier up nor hold the process at exit. The struct layout read is the child's (above).
 */
class InlineParser {
  readonly ready: Promise<void>;
  private module: WasmParser | undefined;
  private failure: Error | undefined;

  constructor(files: { glue: string; wasm: string }) {
    const { createRequire } = process.getBuiltinModule('node:module');
    const glue = createRequire(import.meta.url)(files.glue) as GlueFactory | { default: GlueFactory };
    const factory = typeof glue === 'function' ? glue : glue.default;
    this.ready = factory({ locateFile: () => files.wasm }).then(
      (module) => {
        this.module = module;
      },
      (error: unknown) => {
        this.failure = new Error(
          `The PostgreSQL parser (libpg-query) could not start: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  }

  async request<T>(op: 'parse' | 'scan', texts: readonly string[]): Promise<ParserReply<T>[]> {
    if (texts.length === 0) return [];
    if (!this.module) await this.ready;
    if (this.failure || !this.module) throw this.failure ?? new Error('The PostgreSQL parser did not start');
    const module = this.module;
    return texts.map((text) => {
      try {
        return { ok: true, value: (op === 'parse' ? inlineParse(module, text) : inlineScan(module, text)) as T };
      } catch (error) {
        return { ok: false, message: error instanceof Error ? error.message : String(error) };
      }
    });
  }
}

type GlueFactory = (options: { locateFile: () => string }) => Promise<WasmParser>;

/** The few exports of libpg-query's Emscripten module that parse and scan use. */
interface WasmParser {
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, pointer: number, size: number): void;
  UTF8ToString(pointer: number): string;
  getValue(pointer: number, type: 'i32'): number;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _wasm_parse_query_raw(pointer: number): number;
  _wasm_free_parse_result(pointer: number): void;
  _wasm_scan(pointer: number): number;
  _wasm_free_string(pointer: number): void;
}

function withText<T>(module: WasmParser, text: string, use: (pointer: number) => T): T {
  const size = module.lengthBytesUTF8(text) + 1;
  const pointer = module._malloc(size);
  try {
    module.stringToUTF8(text, pointer, size);
    return use(pointer);
  } finally {
    module._free(pointer);
  }
}

function inlineParse(module: WasmParser, text: string): unknown {
  return withText(module, text, (pointer) => {
    const result = module._wasm_parse_query_raw(pointer);
    if (!result) throw new Error('the parser could not allocate memory');
    try {
      const tree = module.getValue(result, 'i32');
      const error = module.getValue(result + 8, 'i32');
      if (error) {
        const message = module.getValue(error, 'i32');
        throw new Error(message ? module.UTF8ToString(message) : 'unknown parse error');
      }
      if (!tree) throw new Error('no parse tree');
      return JSON.parse(module.UTF8ToString(tree)) as unknown;
    } finally {
      module._wasm_free_parse_result(result);
    }
  });
}

function inlineScan(module: WasmParser, text: string): unknown {
  return withText(module, text, (pointer) => {
    const result = module._wasm_scan(pointer);
    try {
      return JSON.parse(module.UTF8ToString(result)) as unknown;
    } finally {
      if (result) module._wasm_free_string(result);
    }
  });
}

let current: ParserProcess | InlineParser | undefined;

function parser(): ParserProcess | InlineParser {
  if (!current && process.execArgv.includes('--liftoff-only')) current = new InlineParser(locateParserFiles());
  if (!current) {
    const files = locateParserFiles();
    const child = spawn(process.execPath, ['--liftoff-only', '-e', CHILD_SOURCE, files.glue, files.wasm], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // The parser needs nothing from the environment: not the caller's NODE_OPTIONS (a --require,
      // a loader), and not its secrets (the action's INPUT_DATABASE-URL, say).
      env: Object.fromEntries(
        Object.entries({ PATH: process.env.PATH, SYSTEMROOT: process.env.SYSTEMROOT }).filter(
          ([, value]) => value !== undefined,
        ),
      ),
    });
    current = new ParserProcess(child);
  }
  return current;
}

/**
 * Starts the parser process now, so that its start-up (a Node process and the .wasm, a few
 * hundred milliseconds on a busy runner) overlaps the caller's own work. Failures surface
 * on the first real request.
 */
export function startParser(): void {
  try {
    parser();
  } catch {
    // Reported, with the same message, by the first parseTexts/scanTexts.
  }
}

/** Parses each text as a whole (all its statements); a reply per text, in order. */
export function parseTexts(texts: readonly string[]): Promise<ParserReply<ParseResult>[]> {
  return parser().request<ParseResult>('parse', texts);
}

/** Runs PostgreSQL's scanner over each text; a reply per text, in order. */
export async function scanTexts(texts: readonly string[]): Promise<ParserReply<ScanToken[]>[]> {
  const replies = await parser().request<ScanResult>('scan', texts);
  return replies.map((reply) => (reply.ok ? { ok: true, value: reply.value.tokens ?? [] } : reply));
}

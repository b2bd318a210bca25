import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Redaction is a second line of defence: code never logs secrets on purpose,
 * but if an object carrying one slips through, these paths are blanked.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      ...common(level),
      redact: {
        paths: [
          'secret',
          '*.secret',
          'aesKey',
          '*.aesKey',
          'token',
          '*.token',
          'sessionKey',
          '*.sessionKey',
          'session_key',
          '*.session_key',
          'access_token',
          '*.access_token',
          'authorization',
          '*.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * The one-line-per-request access log. Its fields are fixed and built by the gateway (never a
 * caller's or WeChat's object), so it skips redaction, which would cost more than the line itself.
 */
export function createAccessLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(common(level), destination ?? bufferedStdout());
}

let stdoutBuffer: LineBuffer | undefined;

/**
 * Standard output for the access log, written a few lines at a time: one write per request cost
 * about 3 % of a push's CPU. Lines are kept as they come and joined once per write (appending to
 * one growing string would copy it again for every line); the writes stay synchronous, so they
 * never interleave mid-line with the other logger's. What is buffered goes out within a second, and
 * at exit; a killed process (SIGKILL) loses at most 4 KiB of access lines. One per process, however
 * many gateways a process runs (tests do).
 */
function bufferedStdout(): pino.DestinationStream {
  if (stdoutBuffer) return stdoutBuffer;
  const buffer = new LineBuffer(pino.destination({ dest: 1, sync: true }), 4096);
  setInterval(() => buffer.flush(), 1000).unref();
  process.once('exit', () => buffer.flush());
  return (stdoutBuffer = buffer);
}

export class LineBuffer implements pino.DestinationStream {
  private lines: string[] = [];
  private length = 0;

  constructor(
    private readonly out: pino.DestinationStream,
    private readonly flushAt: number,
  ) {}

  write(line: string): void {
    this.lines.push(line);
    this.length += line.length;
    if (this.length >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    this.length = 0;
    try {
      this.out.write(text);
    } catch {
      // Standard output gone (EPIPE): the lines cannot be written anywhere.
    }
  }
}

let lastMs = -1;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond: under load several lines share one, and each Date formatting costs. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

function common(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'wxgate' },
    timestamp: isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

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
  return pino(common(level), destination);
}

function common(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'wxgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

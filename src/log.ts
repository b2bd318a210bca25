import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Redaction is a second line of defence: code never logs secrets on purpose,
 * but if an object carrying one slips through, these paths are blanked.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wxgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['secret', '*.secret', 'aesKey', '*.aesKey', 'token', '*.token', 'sessionKey', '*.sessionKey', 'session_key', '*.session_key', 'access_token', '*.access_token', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

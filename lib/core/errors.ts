// Error types with stable codes. Client faults are not errors here: they are close reasons (see http1-conn.ts).

/** A bad option, config key or input file. The message names the key or file:line; the process exits 2 at start. */
export class ConfigError extends Error {
  readonly code = 'ERR_TIMEGIF_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// One base error class with a stable `code` that callers and tests can match
// on, instead of parsing messages (as undici's and pino's errors do).
export class NetletError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An API object that cannot be used: names the object and the offending field. */
export class InvalidObjectError extends NetletError {
  readonly kind: string;
  readonly ref: string;
  readonly field: string;
  readonly reason: string;

  constructor(kind: string, ref: string, field: string, reason: string) {
    super('ERR_INVALID_OBJECT', `${kind} ${ref || '<unnamed>'}: ${field}: ${reason}`);
    this.kind = kind;
    this.ref = ref;
    this.field = field;
    this.reason = reason;
  }
}

/** A configuration file or flag that cannot be used; names the key. */
export class ConfigError extends NetletError {
  readonly key: string;

  constructor(key: string, reason: string) {
    super('ERR_CONFIG', key ? `config: ${key}: ${reason}` : `config: ${reason}`);
    this.key = key;
  }
}

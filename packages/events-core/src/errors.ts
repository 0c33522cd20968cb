/**
 * Codes carried by every {@link RepoPulseError}. Each subclass narrows this to its own set.
 */
export type RepoPulseErrorCode = string;

/** Options accepted by every RepoPulse error constructor. */
export interface RepoPulseErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Marks the prototype of every RepoPulse error class, in every copy of events-core. */
const ERROR_BRAND = Symbol.for('repopulse.error');

/**
 * Base class of every error thrown by RepoPulse packages. Always has a machine-readable
 * `code`; messages start with `[repopulse]` so they are easy to spot in logs.
 *
 * `instanceof` works across copies of the package (the ESM and the CJS build side by side, or two
 * installed versions): an error made by another copy is an instance of a class here when it is
 * branded as a RepoPulse error and its class chain holds a class of the same name. Errors from
 * copies older than 0.2 carry no brand; {@link isRepoPulseError} recognises those too.
 *
 * @example
 * ```ts
 * try { parseEnvelope(input); } catch (e) {
 *   if (e instanceof RepoPulseError) console.log(e.code);
 * }
 * ```
 */
export class RepoPulseError<Code extends string = RepoPulseErrorCode> extends Error {
  // `declare`: assigned in the constructor, no class-field boilerplate in a browser bundle.
  /** Machine-readable reason; stable across versions. */
  declare readonly code: Code;

  constructor(code: Code, message: string, options: RepoPulseErrorOptions = {}) {
    // Error reads `cause` only when given: no `cause: undefined` on the error.
    super(`[repopulse] ${message}`, options.cause === undefined ? undefined : options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `instanceof`, extended to RepoPulse errors made by another copy of the package: `value`'s
   * prototype chain holds this class's prototype, or `value` is branded as a RepoPulse error and its
   * chain holds a class of the same name. `this` is the class on the right of `instanceof` (a
   * subclass inherits this method).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const branded = (value as Record<symbol, unknown> | null | undefined)?.[ERROR_BRAND];
    let proto = value;
    while (proto != null) {
      proto = Object.getPrototypeOf(proto);
      // An inherited `constructor` names a class further up the same chain: no own-property test.
      // biome-ignore lint/complexity/noThisInStatic: `this` is the class tested against, a subclass too.
      if (proto === this.prototype || (branded && (proto as object | null)?.constructor?.name === this.name))
        return true;
    }
    return false;
  }
}
// Outside the class body: a self-reference inside it makes esbuild rename the class (`_RepoPulseError`).
Object.defineProperty(RepoPulseError.prototype, ERROR_BRAND, { value: true });

/** Why an event, envelope or topic was refused. */
export type EventValidationErrorCode =
  | 'unknown_type'
  | 'invalid_envelope'
  | 'invalid_field'
  | 'invalid_payload'
  | 'too_large'
  | 'already_registered'
  | 'async_schema'
  | 'incompatible_registry';

/**
 * Thrown when an event envelope, payload, topic or event type is invalid. The message names
 * the offending field (e.g. `payload.to`); `field` holds the same path.
 */
export class EventValidationError extends RepoPulseError<EventValidationErrorCode> {
  /** Dotted path of the offending field (`payload.percent`), when one is to blame. */
  readonly field: string | undefined;

  constructor(
    code: EventValidationErrorCode,
    message: string,
    field?: string,
    options: RepoPulseErrorOptions = {},
  ) {
    super(code, message, options);
    this.field = field;
  }
}

/** The state machine a refused transition belongs to. */
export type TransitionMachine = 'task' | 'repository';

/**
 * Thrown by {@link assertTaskTransition} / {@link assertRepoTransition} when a status change is
 * not allowed by the state machine.
 */
export class InvalidTransitionError extends RepoPulseError<'invalid_transition'> {
  /** Which state machine refused the change. */
  readonly machine: TransitionMachine;
  /** The status the entity had. */
  readonly from: string;
  /** The status that was refused. */
  readonly to: string;

  constructor(machine: TransitionMachine, from: string, to: string) {
    super('invalid_transition', `${machine} status cannot change from "${from}" to "${to}"`);
    this.machine = machine;
    this.from = from;
    this.to = to;
  }
}

/** Why a bus refused an operation. */
export type BusErrorCode = 'bus_closed' | 'bus_unavailable' | 'invalid_topic' | 'invalid_position';

/**
 * Thrown (or used to reject) by every {@link EventBus} implementation: publishing on a closed
 * bus (`bus_closed`), a store that stayed unreachable past its bound (`bus_unavailable`),
 * a malformed topic (`invalid_topic`), a malformed stream position given to
 * `comparePositions` (`invalid_position`).
 */
export class BusError extends RepoPulseError<BusErrorCode> {}

/**
 * The bus could not reach its store within the configured bound; the event was **not**
 * stored and will not be delivered.
 */
export class BusUnavailableError extends BusError {
  constructor(message: string, options: RepoPulseErrorOptions = {}) {
    super('bus_unavailable', message, options);
  }
}

/** The bus was closed; nothing more can be published or subscribed. */
export class BusClosedError extends BusError {
  constructor(message = 'the bus is closed') {
    super('bus_closed', message);
  }
}

/**
 * True when `error` is a RepoPulse error (optionally with one of `codes`), also when it was thrown by
 * another copy of a RepoPulse package (a CJS and an ESM build side by side, or two versions), where
 * `instanceof` is false. Recognises a `code` string and a message starting with `[repopulse]`.
 *
 * @example
 * ```ts
 * if (isRepoPulseError(error, 'bus_closed')) return;
 * ```
 */
export function isRepoPulseError(error: unknown, ...codes: string[]): error is RepoPulseError {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (!(error instanceof RepoPulseError) && !error.message.startsWith('[repopulse]')) return false;
  return codes.length === 0 || codes.includes(code);
}

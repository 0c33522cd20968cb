import type { Cluster, Redis } from 'ioredis';

/** What the bus needs of an ioredis `Command`, in every major: its reply. */
interface SentCommand {
  readonly promise: Promise<unknown>;
}

/** An ioredis `Command` class (`Redis.Command` of the copy a client comes from). */
type CommandClass = new (
  name: string,
  args: (string | number | Buffer)[],
  options: { replyEncoding: 'utf8' },
) => SentCommand;

/** The `Command` class of each client's own ioredis copy, once found. */
const commandClasses = new WeakMap<object, CommandClass>();

/**
 * Sends `name args…` on `client` now and resolves with its reply as UTF-8 text. The command is
 * built with the `Command` class of the ioredis copy the client comes from, never with the bus's
 * own: a client of another ioredis major (5 and 6 differ in what `sendCommand` asks of a command)
 * works whichever copy the bus resolves. Sent with `sendCommand`, it goes out at once even on a
 * client with auto-pipelining (which would hold it until the end of the tick; the bus batches its
 * own appends), and keys are taken as given. Should the class not be found, the command goes
 * through a pipeline of the client (also sent at once).
 */
export function clientCommand(
  client: Redis | Cluster,
  name: string,
  args: (string | number | Buffer)[],
): Promise<unknown> {
  const Command = commandClassOf(client);
  if (Command === undefined) return viaPipeline(client, name, args);
  const command = new Command(name, args, { replyEncoding: 'utf8' });
  client.sendCommand(command as never);
  return command.promise;
}

/**
 * The client's own `Command` class. ioredis does not expose it on a client (`Redis.Command` is on
 * the class, and a client's `constructor` is `EventEmitter`, mixed in), so it is read off a
 * command queued on a pipeline of the client, a pipeline that is never sent.
 */
function commandClassOf(client: Redis | Cluster): CommandClass | undefined {
  const known = commandClasses.get(client);
  if (known) return known;
  let found: unknown;
  try {
    const probe = client.pipeline().ping() as unknown as { _queue?: unknown[] };
    found = (probe._queue?.[0] as object | undefined)?.constructor;
  } catch {
    return undefined;
  }
  if (typeof found !== 'function' || !('prototype' in found) || !('toWritable' in found.prototype)) {
    return undefined;
  }
  const written = writtenAsOneBuffer(found as CommandClass);
  commandClasses.set(client, written);
  return written;
}

/**
 * A subclass of the client's `Command` class that writes itself to the socket as one `Buffer`
 * (ioredis's own `Script` overrides `toWritable` the same way). The default builds a string of
 * every argument with its header, which for a batch of ~770 arguments is thousands of short-lived
 * string pieces and a flat copy of the whole command on the JavaScript heap; a `Buffer` is written
 * in place, outside of it. Commands with anything but string arguments are written as ioredis
 * writes them.
 */
function writtenAsOneBuffer(Command: CommandClass): CommandClass {
  const Base = Command as unknown as new (
    ...args: ConstructorParameters<CommandClass>
  ) => SentCommand & { name: string; args: unknown[]; toWritable(socket: unknown): unknown };
  return class extends Base {
    override toWritable(socket: unknown): unknown {
      return encodeCommand(this.name, this.args) ?? super.toWritable(socket);
    }
  };
}

/**
 * `name args…` in the Redis protocol (RESP), or `undefined` when an argument is neither a string
 * nor a `Buffer`.
 */
function encodeCommand(name: string, args: readonly unknown[]): Buffer | undefined {
  const lengths = new Array<number>(args.length);
  let size = 16 + 2 * name.length;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let length: number;
    if (typeof arg === 'string') length = Buffer.byteLength(arg);
    else if (Buffer.isBuffer(arg)) length = arg.length;
    else return undefined;
    lengths[i] = length;
    size += length + 16; // `$<length>\r\n<arg>\r\n`
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(`*${args.length + 1}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`, 0, 'latin1');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string | Buffer;
    at += out.write(`$${lengths[i]}\r\n`, at, 'latin1');
    at += typeof arg === 'string' ? out.write(arg, at, 'utf8') : arg.copy(out, at);
    at += out.write('\r\n', at, 'latin1');
  }
  return out.subarray(0, at);
}

async function viaPipeline(
  client: Redis | Cluster,
  name: string,
  args: (string | number | Buffer)[],
): Promise<unknown> {
  const results = await client.pipeline([[name, ...args]]).exec();
  const [error, reply] = results?.[0] ?? [new Error('the pipeline got no reply'), undefined];
  if (error) throw error;
  return reply;
}

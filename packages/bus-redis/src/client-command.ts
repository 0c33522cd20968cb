import type { Cluster, Redis } from 'ioredis';

/** What the bus needs of an ioredis `Command`, in every major: its reply. */
interface SentCommand {
  readonly promise: Promise<unknown>;
}

/** An ioredis `Command` class (`Redis.Command` of the copy a client comes from). */
type CommandClass = new (
  name: string,
  args: (string | number)[],
  options: { replyEncoding: 'utf8' },
) => SentCommand;

/** The `Command` class of each client's own ioredis copy, once found. */
const commandClasses = new WeakMap<object, CommandClass>();

/**
 * Sends `name args…` on `client` now and resolves with its reply as UTF-8 text. The command is
 * built with the `Command` class of the ioredis copy the client comes from (its `Redis.Command`;
 * for a Cluster, that of its node connections), never with the bus's own: a client of another
 * ioredis major (5 and 6 differ in what `sendCommand` asks of a command) works whichever copy the
 * bus resolves. Sent with `sendCommand`, it goes out at once even on a client with
 * auto-pipelining (which would hold it until the end of the tick): the bus batches its own
 * appends. A client whose class cannot be found yet (a Cluster with no node connection) is sent
 * the command through its own `call`.
 */
export function clientCommand(
  client: Redis | Cluster,
  name: string,
  args: (string | number)[],
): Promise<unknown> {
  const Command = commandClassOf(client);
  if (Command === undefined) return client.call(name, ...args);
  const command = new Command(name, args, { replyEncoding: 'utf8' });
  client.sendCommand(command as never);
  return command.promise;
}

function commandClassOf(client: Redis | Cluster): CommandClass | undefined {
  const known = commandClasses.get(client);
  if (known) return known;
  const connection = client.isCluster ? (client as Cluster).nodes('all')[0] : client;
  const found = (connection?.constructor as { Command?: unknown } | undefined)?.Command;
  if (typeof found !== 'function') return undefined;
  commandClasses.set(client, found as CommandClass);
  return found as CommandClass;
}

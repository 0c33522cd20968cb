import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyEnvelope, BusDelivery } from '@repopulse/events-core';
import { type RunningServer, startServer } from '../../server/app';
import { readConfig } from '../../server/config';
import type { Telemetry } from '../../server/telemetry';

/** A temp data directory, removed by the returned function. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'repo-wiki-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts the real app in-process on a free port (silent logs, fast simulation), with `telemetry`
 * (the app's OpenTelemetry set-up) when given.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  telemetry?: Telemetry,
): Promise<RunningServer> {
  const config = readConfig({
    PORT: '0',
    SIM_SPEED: '100',
    LOG_LEVEL: 'silent',
    SESSION_SECRET: 'test-secret-0123456789abcdef',
    INSTANCE_ID: 'test-instance',
    SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  return startServer(config, undefined, telemetry);
}

/** Logs in and returns the session token. */
export async function login(baseUrl: string, username = 'demo', password = username): Promise<string> {
  const res = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** A tiny JSON client with a Bearer token. */
export function client(baseUrl: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: test helper returning arbitrary JSON
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: res.status, json, headers: res.headers };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    del: (path: string) => call('DELETE', path),
  };
}

/** Records every event of a topic from the app's bus (from the beginning of its history). */
export async function recordTopic(server: RunningServer, topic: string) {
  const events: AnyEnvelope[] = [];
  const waiters: { test: (e: AnyEnvelope) => boolean; resolve: (e: AnyEnvelope) => void }[] = [];
  const sub = await server.bus.subscribe(
    topic,
    (d: BusDelivery) => {
      if (d.reset) return;
      events.push(d.event);
      for (const w of [...waiters]) {
        if (w.test(d.event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(d.event);
        }
      }
    },
    { after: '0-0' },
  );
  return {
    events,
    /** Resolves with the first recorded (or future) event matching `test`. */
    waitFor(test: (e: AnyEnvelope) => boolean, timeoutMs = 15_000): Promise<AnyEnvelope> {
      const found = events.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for an event on ${topic}`)),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    stop: () => sub.unsubscribe(),
  };
}

/** True for `repo.status_changed` to `to`. */
export const repoStatusIs = (to: string) => (e: AnyEnvelope) =>
  e.type === 'repo.status_changed' && e.payload.to === to;

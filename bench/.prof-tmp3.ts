import { createEvent, parseEnvelope } from '@repopulse/events-core';
const FILES = ['src/app/routes/repositories.tsx', 'packages/core/lib/graph.ts', 'docs/guide/intro.md'];
const appEvent = (n: number) => createEvent('task.progress', { phase: 'analyze', percent: n % 100,
  message: `Analyzing ${FILES[n % FILES.length]} (${n} of 20000): 12 symbols, 3 references resolved` },
  { repo_id: 4242, task_id: 90_000 + (n % 50), request_id: 'req_01JDX3V6Q8W4ZB1C2D3E4F5G6H' });
const payload = (n: number) => ({ phase: 'analyze', percent: n % 100,
  message: `Analyzing ${FILES[n % FILES.length]} (${n} of 20000): 12 symbols, 3 references resolved` });
for (let r = 0; r < 5; r++) {
  let c = process.cpuUsage(); let x = 0;
  for (let i = 0; i < 200000; i++) x += appEvent(i).ts;
  let u = process.cpuUsage(c); console.log('createEvent', ((u.user + u.system) / 200000).toFixed(2));
  c = process.cpuUsage();
  for (let i = 0; i < 200000; i++) x += payload(i).percent;
  u = process.cpuUsage(c); console.log('payload only', ((u.user + u.system) / 200000).toFixed(2));
  c = process.cpuUsage();
  for (let i = 0; i < 200000; i++) x += JSON.stringify({id: '01JDX3V6Q8W4ZB1C2D3E4F5G6H', type: 'task.progress', ts: 1, repo_id: '4242', task_id: '90001', request_id: 'req_01JDX3V6Q8W4ZB1C2D3E4F5G6H', payload: payload(i)}).length;
  u = process.cpuUsage(c); console.log('stringify', ((u.user + u.system) / 200000).toFixed(2));
}

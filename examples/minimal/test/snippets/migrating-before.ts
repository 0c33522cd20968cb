// docs/migrating-from-polling.md ("before"), compiled by the root typecheck;
// docs-snippets.test.ts checks the doc shows exactly this.
declare function render(tasks: { id: string; status: string; percent: number }[]): void;

export {};

// Before: ask every 3 s whether anything changed.
setInterval(async () => {
  const { tasks } = await (await fetch('/api/repositories/42')).json();
  render(tasks);
}, 3000);

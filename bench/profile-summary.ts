/**
 * Summarizes a V8 CPU profile (`npm run bench -- --profile` writes the api's into
 * bench/results/profiles/): self time per function and per file, heaviest first.
 * Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const busy = total - [...idleIds].reduce((a, id) => a + (selfUs.get(id) ?? 0), 0);

const shortUrl = (url: string): string => url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '~/').replace(/.*\/(services|packages)\//, '$1/');
const fnKey = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: ProfileNode): string => {
  const url = shortUrl(n.callFrame.url);
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const pkg = /^~\/((@[^/]+\/)?[^/]+)/.exec(url);
  return pkg ? `~/${pkg[1]}` : url;
};

function rank(keyOf: (n: ProfileNode) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || idleIds.has(id)) continue;
    sums.set(keyOf(node), (sums.get(keyOf(node)) ?? 0) + us);
  }
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
}

const fmt = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / busy) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`wall ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s\n\nby file/package (self time):\n`);
for (const [k, us] of rank(fileKey)) process.stdout.write(`${fmt(us)}  ${k}\n`);
process.stdout.write('\nby function (self time):\n');
for (const [k, us] of rank(fnKey)) process.stdout.write(`${fmt(us)}  ${k}\n`);

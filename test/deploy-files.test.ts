import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..');

interface ComposeService {
  image?: string;
  command?: string | string[];
  build?: { target?: string };
  deploy?: { replicas?: number };
}

interface Stage {
  name: string;
  from: string;
  instructions: string[];
}

/** Dockerfile stages with their instructions, continuation lines joined and comments dropped. */
function dockerStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1] ?? '', name: from[2] ?? String(stages.length), instructions: [] });
    else stages.at(-1)?.instructions.push(line);
  }
  return stages;
}

/** A stage and the stages it is built FROM, nearest first. */
function chain(stages: Stage[], name: string): Stage[] {
  const found: Stage[] = [];
  for (let stage = stages.find((s) => s.name === name); stage; stage = stages.find((s) => s.name === stage?.from)) {
    found.push(stage);
  }
  return found;
}

/** The last matching instruction in effect for a stage, following its FROM chain. */
function effective(stages: Stage[], name: string, keyword: string): string | undefined {
  for (const stage of chain(stages, name)) {
    const hit = stage.instructions.filter((i) => i.toUpperCase().startsWith(`${keyword} `)).at(-1);
    if (hit) return hit.slice(keyword.length).trim();
  }
  return undefined;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const stages = dockerStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const serviceDirs = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const targets = [...new Set(['api', 'worker', 'metrics', ...serviceDirs])];

describe('docker-compose.yml', () => {
  it('runs Redis with AOF persistence and the noeviction policy BullMQ requires', () => {
    const redis = compose.services.redis;
    expect(redis?.image).toMatch(/^redis:7/);
    const command = [redis?.command ?? []].flat().join(' ');
    expect(command).toMatch(/--appendonly\s+yes/);
    expect(command).toMatch(/--maxmemory-policy\s+noeviction/);
  });

  it('runs the api once and the worker as two replicas, each from its Dockerfile target', () => {
    expect(compose.services.api?.build?.target).toBe('api');
    expect(compose.services.worker?.build?.target).toBe('worker');
    expect(compose.services.worker?.deploy?.replicas).toBe(2);
    for (const service of Object.values(compose.services)) {
      if (service.build?.target) expect(stages.map((s) => s.name)).toContain(service.build.target);
    }
  });
});

describe('Dockerfile', () => {
  it.each(targets)('runs the %s target as a non-root user', (target) => {
    expect(chain(stages, target).length).toBeGreaterThan(0);
    const user = effective(stages, target, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it.each(targets)('starts the %s target with an exec-form CMD, so node receives SIGTERM', (target) => {
    const cmd = effective(stages, target, 'CMD') ?? '';
    expect(cmd.startsWith('[')).toBe(true);
    expect(JSON.parse(cmd)).toEqual(['node', `services/${target}/dist/main.js`]);
  });

  it('gives the api a HEALTHCHECK on /healthz that needs no curl', () => {
    const healthcheck = effective(stages, 'api', 'HEALTHCHECK') ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('fetch(');
  });

  it('installs only production dependencies into the runtime images', () => {
    const isDevInstall = (stage: Stage) => stage.instructions.some((i) => /\bnpm ci\b(?![^&;]*--omit=dev)/.test(i));
    const copies = chain(stages, 'api').flatMap((stage) =>
      stage.instructions.flatMap((i) => {
        const copy = /^COPY\s+--from=(\S+)\s+(\S+)/i.exec(i);
        return copy ? [{ stage: stages.find((s) => s.name === copy[1]), source: copy[2] ?? '' }] : [];
      }),
    );
    const prodInstalls = copies.filter(({ stage }) =>
      stage?.instructions.some((i) => /\bnpm ci\b[^&;]*--omit=dev/.test(i)),
    );
    expect(prodInstalls.length).toBeGreaterThan(0);
    // A stage with dev dependencies may hand over build output, never its whole tree or node_modules.
    for (const { stage, source } of copies.filter((c) => c.stage && isDevInstall(c.stage))) {
      expect(`COPY --from=${stage?.name} ${source}`).not.toMatch(/ (\/app\/?|\S*node_modules\S*)$/);
    }
  });

  it('keeps local installs and build output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split(/\r?\n/);
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});

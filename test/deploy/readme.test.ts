import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { at, kustomize, repoRoot, type K8sObject } from './helpers';

/**
 * deploy/README.md must only give commands the repository supports: every path, npm script,
 * Dockerfile target, image, namespace, Deployment, Service, port and compose option it names is
 * checked against the files (the Kubernetes ones as kustomize renders them).
 */
const readme = readFileSync(join(repoRoot, 'deploy', 'README.md'), 'utf8');
const TOOLS = /^(npm|node|docker|docker-compose|kubectl|kind|cp|curl)\b/;

/** Shell lines of the ```bash blocks and inline `code` that starts with a command, comments dropped. */
const commands: string[] = [
  ...[...readme.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n')),
  ...[...readme.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? ''),
]
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .flatMap((line) => line.split(/\s+&&\s+/))
  .filter((line) => TOOLS.test(line));

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { profiles?: string[]; ports?: string[] }>;
};
const dockerTargets = [...readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
const overlays = Object.fromEntries(
  ['dev', 'prod'].map((name) => {
    const file = parse(readFileSync(join(repoRoot, 'deploy', 'k8s', 'overlays', name, 'kustomization.yaml'), 'utf8')) as {
      namespace: string;
      images: { name: string; newName?: string; newTag: string }[];
    };
    return [name, { ...file, objects: kustomize(join(repoRoot, 'deploy', 'k8s', 'overlays', name)) }];
  }),
) as Record<string, { namespace: string; images: { name: string; newName?: string; newTag: string }[]; objects: K8sObject[] }>;
const overlayIn = (namespace: string) => Object.values(overlays).find((o) => o.namespace === namespace);
/** The images the README's `docker build` lines produce (`name:tag`). */
const built = commands.flatMap((c) => /^docker build --target \S+ -t (\S+) \.$/.exec(c)?.slice(1) ?? []);

describe('deploy/README.md', () => {
  it('gives commands (at least one of each kind it documents)', () => {
    for (const tool of ['npm', 'docker compose', 'docker build', 'kubectl apply', 'kubectl create', 'kind', 'node']) {
      expect(`${tool}: ${commands.some((c) => c.startsWith(tool))}`).toBe(`${tool}: true`);
    }
  });

  it('names only files and folders that exist', () => {
    const paths = [...readme.matchAll(/(?<![\w/.-])(deploy\/[\w./-]*[\w/]|docker-compose\.yml|bench\/results\/latest\.md)/g)].map((m) => m[1] as string);
    const missing = paths.filter((p) => p !== 'deploy/k8s/secrets.env' && !existsSync(join(repoRoot, p)));
    expect(missing).toEqual([]);
    // The one that must not exist in the repository: the filled-in secrets, kept out of git.
    expect(readFileSync(join(repoRoot, 'deploy', 'k8s', '.gitignore'), 'utf8')).toMatch(/^secrets\.env$/m);
  });

  it('runs only npm scripts and node scripts that exist', () => {
    for (const command of commands) {
      const script = /^npm run (\S+)/.exec(command)?.[1];
      if (script) expect(Object.keys(pkg.scripts)).toContain(script);
      const file = /^node (\S+)/.exec(command)?.[1];
      // `services/<name>/dist/main.js` stands for each service: check them all.
      for (const path of file?.includes('<name>') ? ['api', 'worker', 'metrics'].map((n) => file.replace('<name>', n).replace('dist/main.js', 'src/main.ts')) : file ? [file] : []) {
        expect(`${path}: ${existsSync(join(repoRoot, path))}`).toBe(`${path}: true`);
      }
    }
  });

  it('builds images from Dockerfile targets under the names and tags the overlays deploy, and loads only those into kind', () => {
    const builds = commands.flatMap((c) => {
      const m = /^docker build --target (\S+) -t (\S+):(\S+) \.$/.exec(c);
      return m ? [{ target: m[1] as string, name: m[2] as string, tag: m[3] as string }] : [];
    });
    expect(builds.length).toBe(6);
    for (const { target, name, tag } of builds) {
      expect(dockerTargets).toContain(target);
      const deployed = Object.values(overlays).flatMap((o) => o.images).find((i) => (i.newName ?? i.name) === name);
      expect(`${name}:${deployed?.newTag}`).toBe(`${name}:${tag}`);
      expect(deployed?.name).toBe(`jobstream-${target}`);
    }
    for (const command of commands.filter((c) => c.startsWith('kind load docker-image'))) {
      for (const image of command.split(/\s+/).slice(3)) expect(built).toContain(image);
    }
  });

  it('applies and renders only kustomizations, in namespaces, to Deployments and Service ports they contain', () => {
    for (const command of commands.filter((c) => c.startsWith('kubectl'))) {
      const dir = /(?:-k|kustomize) (\S+)/.exec(command)?.[1];
      if (dir) expect(existsSync(join(repoRoot, dir, 'kustomization.yaml'))).toBe(true);
      const namespace = /-n (\S+)/.exec(command)?.[1] ?? /create namespace (\S+)/.exec(command)?.[1];
      if (!namespace) continue;
      const overlay = overlayIn(namespace);
      expect(`${command}: ${overlay !== undefined}`).toBe(`${command}: true`);
      const deployment = /deployment\/(\S+)/.exec(command)?.[1];
      if (deployment) expect(overlay?.objects.some((o) => o.kind === 'Deployment' && o.metadata.name === deployment)).toBe(true);
      const forward = /service\/(\S+) \d+:(\d+)/.exec(command);
      if (forward) {
        const service = overlay?.objects.find((o) => o.kind === 'Service' && o.metadata.name === forward[1]);
        expect(at(service, 'spec', 'ports').map((p: { port: number }) => p.port)).toContain(Number(forward[2]));
      }
      const secret = /create secret generic (\S+) --from-env-file=(\S+)/.exec(command);
      if (secret) {
        const refs = JSON.stringify(overlay?.objects);
        expect(refs).toContain(`"name":"${secret[1]}"`);
        expect(existsSync(join(repoRoot, `${secret[2]}.example`))).toBe(true);
      }
    }
  });

  it('uses only compose profiles and services that exist, the port nginx publishes, and the validation CI runs', () => {
    for (const command of commands.filter((c) => /^docker(-compose| compose)/.test(c))) {
      const profile = /--profile (\S+)/.exec(command)?.[1];
      if (profile) expect(Object.values(compose.services).some((s) => s.profiles?.includes(profile))).toBe(true);
      const scaled = /--scale (\w+)=/.exec(command)?.[1];
      if (scaled) expect(Object.keys(compose.services)).toContain(scaled);
      if (command.startsWith('docker-compose')) expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toContain(command);
    }
    const curl = commands.find((c) => c.startsWith('curl localhost:'));
    expect(compose.services.nginx?.ports?.[0]?.split(':')[0]).toBe(/localhost:(\d+)/.exec(curl ?? '')?.[1]);
  });
});

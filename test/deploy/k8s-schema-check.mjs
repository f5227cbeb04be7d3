// Checks Kubernetes objects against the OpenAPI schemas of the kubernetes-models packages, in a
// Node process of its own: the packages are ES modules exported under `import` only, which
// Node loads natively and jest's CommonJS loader does not. Reads a JSON array of objects on
// stdin and writes a JSON array with the problems of each (an empty array when it is valid).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The npm package holding the models of an API group; everything else is core Kubernetes. */
const MODEL_PACKAGES = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
  const pkg = MODEL_PACKAGES[group] ?? 'kubernetes-models';
  let mod;
  try {
    mod = await import(pathToFileURL(join(root, 'node_modules', pkg, apiVersion, `${kind}.js`)).href);
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind} in ${pkg}`);
  }
  const model = mod[kind];
  if (!model) throw new Error(`no model ${kind} in ${pkg}/${apiVersion}`);
  return model;
}

/**
 * Wraps `root` in proxies that record which properties the schema validator looks at. The
 * validators kubernetes-models generates (ajv, compiled) read every property their schema
 * declares, even absent ones, and enumerate the keys of maps (labels, data, resources):
 * so a key of a typed object that was never read is a field the schema does not know.
 * Objects the validator never looked into (free-form, `x-kubernetes-preserve-unknown-fields`)
 * are not judged.
 */
function watchReads(rootValue) {
  const seen = new Map();
  const proxies = new WeakMap();
  const wrap = (value, path) => {
    if (value === null || typeof value !== 'object') return value;
    const cached = proxies.get(value);
    if (cached) return cached;
    const record = { path, read: new Set(), enumerated: false };
    seen.set(value, record);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const result = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return result;
        record.read.add(key);
        return Object.prototype.hasOwnProperty.call(target, key) ? wrap(result, `${path}/${key}`) : result;
      },
      has(target, key) {
        if (typeof key === 'string') record.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const proxy = wrap(rootValue, '');
  return {
    proxy,
    unknownFields() {
      const unknown = [];
      for (const [target, record] of seen) {
        if (Array.isArray(target) || record.enumerated || record.read.size === 0) continue;
        for (const key of Object.keys(target)) if (!record.read.has(key)) unknown.push(`${record.path}/${key}`);
      }
      return unknown;
    },
  };
}

async function problemsOf(obj) {
  const label = `${obj.kind} ${obj.metadata?.name ?? '?'}`;
  let model;
  try {
    model = await modelFor(obj.apiVersion, obj.kind);
  } catch (err) {
    return [`${label}: ${err.message}`];
  }
  const watched = watchReads(structuredClone(obj));
  try {
    model.prototype.validate.call(watched.proxy);
  } catch (err) {
    return [`${label}: ${err.message}`];
  }
  return watched.unknownFields().map((path) => `${label}: unknown field ${path}`);
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const obj of objects) results.push(await problemsOf(obj));
process.stdout.write(JSON.stringify(results));

#!/usr/bin/env node
// Builds components/monitoring/prometheus-rule.yaml from deploy/prometheus/alerts.yml, the one
// source of the alert rules (compose's Prometheus loads that file as it is).
//
//   node deploy/k8s/generate-prometheus-rule.mjs           rewrite the PrometheusRule
//   node deploy/k8s/generate-prometheus-rule.mjs --check   exit 1 when it is out of date
//
// test/deploy/k8s.test.ts fails when the PrometheusRule's groups differ from alerts.yml's.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const source = join(root, 'deploy', 'prometheus', 'alerts.yml');
const target = join(here, 'components', 'monitoring', 'prometheus-rule.yaml');

const rules = parse(readFileSync(source, 'utf8'));
if (!Array.isArray(rules?.groups)) {
  console.error(`${relative(root, source)} has no rule groups`);
  process.exit(1);
}
const header = [
  `# Generated from ${relative(root, source)} by ${relative(root, fileURLToPath(import.meta.url))}.`,
  '# Do not edit: change alerts.yml and run the script again.',
  '',
].join('\n');
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'jobstream' },
  spec: { groups: rules.groups },
};
const text = header + stringify(rule, { lineWidth: 0 });

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: out of date
  }
  if (current !== text) {
    console.error(`${relative(root, target)} is out of date: run node ${relative(root, fileURLToPath(import.meta.url))}`);
    process.exit(1);
  }
  console.log(`${relative(root, target)} matches ${relative(root, source)}`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${relative(root, target)}`);
}

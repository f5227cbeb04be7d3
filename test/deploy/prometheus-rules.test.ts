import { alertNames } from '@jobstream/contracts';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..', '..');
const RUNBOOK_BASE = 'https://github.com/jobstream/jobstream/blob/main/';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('deploy/prometheus/alerts.yml', () => {
  it('gives every rule a summary, a description and a runbook_url to a page that exists', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect({ alert: rule.alert, summary: rule.annotations?.summary, description: rule.annotations?.description }).toEqual({
        alert: rule.alert,
        summary: expect.any(String),
        description: expect.any(String),
      });
      const url = rule.annotations?.runbook_url ?? '';
      expect(url.startsWith(`${RUNBOOK_BASE}runbooks/`)).toBe(true);
      const page = url.slice(RUNBOOK_BASE.length).split('#')[0] as string;
      expect(existsSync(join(root, page))).toBe(true);
    }
  });

  it('has a rule for every alert the metrics service evaluates, firing on its answer rather than on thresholds of its own', () => {
    const byAlert = new Map(rules.filter((r) => r.labels?.jobstream_alert).map((r) => [r.labels?.jobstream_alert, r]));
    for (const name of alertNames) {
      const expr = byAlert.get(name)?.expr ?? '';
      expect({ name, expr }).toEqual({ name, expr: expect.stringMatching(new RegExp(`max\\(jobstream_alert_active\\{alert="${name}"\\}\\) == 1\\)?$`)) });
      // The rest only carries the measured value into the message: no comparison with a number.
      const rest = expr.replace(`jobstream_alert_active{alert="${name}"}) == 1`, '');
      expect({ name, rest }).toEqual({ name, rest: expect.not.stringMatching(/[<>=]=?\s*\d/) });
    }
  });

  it('compares no measured value with a threshold of its own: the budget warning reads the level the metrics service exports', () => {
    // Allowed numbers: the metrics service's 0/1 answer, Prometheus's own `up`, and the margin
    // for an evaluation that stopped (Prometheus's scrape timing, not a threshold of the service).
    const allowed = [/== 1\)?/g, /up\{job="metrics"\} == 0/g, /> 120$/g];
    // The webhook and push rules read only the workers' delivery counters, which the metrics
    // service does not judge: their thresholds live here and nowhere else.
    const deliveryOnly = (expr: string): boolean =>
      /jobstream_(webhook_delivery_attempts_total|push_sends_total)/.test(expr) && !/jobstream_(alert|budget|queue)_/.test(expr);
    const literals = rules
      .filter((rule) => !deliveryOnly(rule.expr))
      .map((rule) => ({ alert: rule.alert, rest: allowed.reduce((expr, pattern) => expr.replace(pattern, ''), rule.expr) }))
      .filter(({ rest }) => /[<>=]=?\s*\d|\d\s*\*/.test(rest));
    expect(literals).toEqual([]);
    const nearLimit = rules.find((rule) => rule.alert === 'JobstreamBudgetNearLimit');
    expect(nearLimit?.expr).toContain('>= max(jobstream_budget_warn_usd)');
  });

  it('has a runbook page with the four sections for every alert', () => {
    const pages = new Set(rules.map((r) => (r.annotations?.runbook_url ?? '').slice(RUNBOOK_BASE.length).split('#')[0] as string));
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
      if (page.endsWith('kill-switch.md')) {
        expect(headings).toEqual(expect.arrayContaining(['What it is', 'Turn it on', 'Turn it off', 'Who changed it, when, why']));
      } else {
        expect(headings).toEqual(expect.arrayContaining(['What it means', 'Confirm it', 'What to do', 'Resolved when']));
      }
    }
  });

  it('passes promtool check rules and its unit tests (alerts.test.yml)', () => {
    if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).error) {
      throw new Error('promtool is not installed: apt-get install prometheus (.ci/run does)');
    }
    const check = spawnSync('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml'], { cwd: root, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'deploy/prometheus/alerts.test.yml'], { cwd: root, encoding: 'utf8' });
    expect(`${test.stdout}${test.stderr}`).toContain('SUCCESS');
    expect(test.status).toBe(0);
    for (const config of ['prometheus.yml', 'prometheus.compose.yml']) {
      const result = spawnSync('promtool', ['check', 'config', config], { cwd: join(root, 'deploy', 'prometheus'), encoding: 'utf8' });
      expect({ config, status: result.status, output: `${result.stdout}${result.stderr}` }).toMatchObject({ config, status: 0 });
    }
  });
});

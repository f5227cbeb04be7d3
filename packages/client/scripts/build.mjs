/**
 * Builds the publishable package after `tsc -b` (which checks the sources and emits the
 * declarations): dist/esm and dist/cjs, each with one bundled index.js (esbuild) and the
 * declaration tree, in which src/contract-types.ts is written out in full. Nothing of the result
 * names zod or @jobstream/contracts: the build fails if something does.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const contractTypes = join(src, 'contract-types.ts');
const outputs = [
  { dir: join(dist, 'esm'), format: 'esm', type: 'module' },
  { dir: join(dist, 'cjs'), format: 'cjs', type: 'commonjs' },
];
/** A specifier or an inline `import("...")` type the published declarations must not contain. */
const FOREIGN = /from ['"](?!\.{1,2}\/)[^'"]+['"]|import\(\s*['"][^'"]+['"]\s*\)/;

function program(rootNames, host) {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')) });
  const options = { ...parsed.options, composite: false, incremental: false, noEmit: true };
  return ts.createProgram({ rootNames, options, ...(host ? { host: host(options) } : {}) });
}

function fail(message) {
  throw new Error(`@jobstream/client build: ${message}`);
}

const PRINT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

/**
 * The declarations of src/contract-types.ts with every type written out: a plain alias becomes
 * its structure; a generic one over a union of names (`LifecycleEventData<N>`) becomes a map of
 * each name's structure, indexed by the parameter.
 */
/** Recursive aliases of zod that the printer names instead of writing them out, with their declarations. */
const RECURSIVE_ALIASES = {
  JSONType: 'type JSONType = string | number | boolean | null | JSONType[] | { [key: string]: JSONType };',
};

function expandContractTypes() {
  const first = program([contractTypes]);
  const checker = first.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(first.getSourceFile(contractTypes));
  const exported = checker.getExportsOfModule(moduleSymbol);
  const names = new Set(exported.map((s) => s.name));
  const plans = exported.map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const decl = target.declarations?.find(ts.isTypeAliasDeclaration);
    if (!decl) fail(`contract-types.ts exports ${symbol.name}, which is not a type alias`);
    const doc = ts.displayPartsToString(target.getDocumentationComment(checker));
    const params = decl.typeParameters ?? [];
    if (params.length === 0) return { name: symbol.name, doc, keys: undefined };
    const param = params[0];
    if (params.length > 1 || !param.constraint) fail(`${symbol.name} must have one type parameter constrained to a union of names`);
    const constraint = checker.getTypeFromTypeNode(param.constraint);
    const keys = (constraint.isUnion() ? constraint.types : [constraint]).map((t) => (t.isStringLiteral() ? t.value : fail(`${symbol.name}'s parameter must range over string names`)));
    const constraintText = ts.isTypeReferenceNode(param.constraint) && names.has(param.constraint.getText()) ? param.constraint.getText() : keys.map((k) => JSON.stringify(k)).join(' | ');
    return { name: symbol.name, doc, keys, param: param.name.text, constraintText, hasDefault: param.default !== undefined };
  });

  // A second program over a probe module that names every type to print, instantiated.
  const probe = join(src, '__contract-types-probe.ts');
  const probeLines = ["import type * as M from './contract-types.js';"];
  for (const plan of plans) {
    if (!plan.keys) probeLines.push(`export type ${plan.name} = M.${plan.name};`);
    else plan.keys.forEach((key, i) => probeLines.push(`export type ${plan.name}__${i} = M.${plan.name}<${JSON.stringify(key)}>;`));
  }
  const probeText = probeLines.join('\n');
  const second = program([probe], (options) => {
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (file) => (file === probe ? probeText : readFile(file));
    host.fileExists = (file) => file === probe || fileExists(file);
    host.getSourceFile = (file, ...rest) => (file === probe ? ts.createSourceFile(file, probeText, ts.ScriptTarget.ES2022, true) : getSourceFile(file, ...rest));
    return host;
  });
  const probeChecker = second.getTypeChecker();
  const printed = new Map();
  for (const statement of second.getSourceFile(probe).statements) {
    if (!ts.isTypeAliasDeclaration(statement)) continue;
    printed.set(statement.name.text, probeChecker.typeToString(probeChecker.getTypeAtLocation(statement.name), undefined, PRINT));
  }

  const lines = [
    '/**',
    ' * The contract types the SDK uses, written out in full from the jobstream contract (generated by',
    ' * the package build; edit src/contract-types.ts and the contract instead).',
    ' */',
  ];
  for (const plan of plans) {
    const doc = plan.doc ? [`/** ${plan.doc.replace(/\*\//g, '*\\/').replace(/\n/g, '\n * ')} */`] : [];
    if (!plan.keys) {
      lines.push(...doc, `export type ${plan.name} = ${printed.get(plan.name)};`);
      continue;
    }
    const map = `${plan.name}ByName`;
    lines.push(`interface ${map} {`, ...plan.keys.map((key, i) => `  ${JSON.stringify(key)}: ${printed.get(`${plan.name}__${i}`)};`), '}');
    const bound = `${plan.param} extends ${plan.constraintText}${plan.hasDefault ? ` = ${plan.constraintText}` : ''}`;
    lines.push(...doc, `export type ${plan.name}<${bound}> = ${map}[${plan.param}];`);
  }
  // A recursive type is printed by its alias's name (zod's `z.json()` result is `JSONType`): its
  // declaration goes along, so the written-out types name nothing they do not declare.
  for (const [alias, declaration] of Object.entries(RECURSIVE_ALIASES)) {
    if (lines.some((line) => new RegExp(`\\b${alias}\\b`).test(line))) lines.push(declaration);
  }
  lines.push('');
  const text = lines.join('\n');
  if (FOREIGN.test(text)) fail(`the written-out contract types still refer to another module: ${text.match(FOREIGN)[0]}`);
  return text;
}

/** Every `.d.ts` tsc wrote for the sources, relative to dist (not the bundles' own folders). */
function declarationFiles(dir = dist) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return outputs.some((o) => o.dir === path) ? [] : declarationFiles(path);
    return entry.name.endsWith('.d.ts') ? [relative(dist, path)] : [];
  });
}

async function main() {
  const expanded = expandContractTypes();
  for (const output of outputs) rmSync(output.dir, { recursive: true, force: true });
  const files = declarationFiles();
  if (!files.includes('index.d.ts')) fail('dist/index.d.ts is missing: run tsc -b first');
  for (const file of files) {
    let text = file === 'contract-types.d.ts' ? expanded : readFileSync(join(dist, file), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    if (file !== 'contract-types.d.ts' && FOREIGN.test(text)) {
      fail(`${file} refers to ${text.match(FOREIGN)[0]}; import contract types through src/contract-types.ts`);
    }
    text = text.trimEnd() + '\n';
    for (const output of outputs) {
      mkdirSync(dirname(join(output.dir, file)), { recursive: true });
      writeFileSync(join(output.dir, file), text);
    }
  }
  for (const output of outputs) {
    writeFileSync(join(output.dir, 'package.json'), `${JSON.stringify({ type: output.type }, null, 2)}\n`);
    const result = await build({
      entryPoints: [join(src, 'index.ts')],
      outfile: join(output.dir, 'index.js'),
      bundle: true,
      // Neither Node nor a browser: the SDK uses only web globals (fetch, XMLHttpRequest, AbortController).
      platform: 'neutral',
      format: output.format,
      target: 'es2020',
      metafile: true,
      logLevel: 'warning',
    });
    const foreign = Object.keys(result.metafile.inputs).filter((input) => !join(root, input).startsWith(src));
    if (foreign.length > 0) fail(`the bundle would include ${foreign.join(', ')}`);
  }
}

await main();

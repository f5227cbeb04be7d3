import type { OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiResponse } from './document.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** Escaped text whose `backticked` words become <code>. */
function prose(text: string): string {
  return escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function schemaBlock(label: string, schema: unknown): string {
  return `<details><summary>${label}</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>`;
}

function access(op: OpenApiOperation): string {
  if (op.security.length === 0) return 'Public: no credentials.';
  const schemes = op.security.flatMap((requirement) => Object.keys(requirement)).map((name) => `<code>${escape(name)}</code>`);
  return `Signed in: ${schemes.join(' or ')}.`;
}

function parameterRows(params: OpenApiParameter[]): string {
  const rows = params.map(
    (p) =>
      `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td>${prose(p.description ?? '')}</td><td><code>${escape(JSON.stringify(p.schema))}</code></td></tr>`,
  );
  return `<table border="1"><thead><tr><th>parameter</th><th>in</th><th>required</th><th>what</th><th>schema</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function responseRows(responses: Record<string, OpenApiResponse>): string {
  const rows = Object.entries(responses).map(([status, response]) => {
    const bodies = Object.entries(response.content ?? {}).map(([type, { schema }]) => schemaBlock(escape(type), schema));
    return `<tr><td>${escape(status)}</td><td>${prose(response.description)}${bodies.join('')}</td></tr>`;
  });
  return `<table border="1"><thead><tr><th>status</th><th>answer</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

interface Entry {
  method: string;
  path: string;
  op: OpenApiOperation;
}

function entryTitle({ method, path }: Entry): string {
  return `<code>${method.toUpperCase()} ${escape(path)}</code>`;
}

function article(entry: Entry): string {
  const { op } = entry;
  const body = op.requestBody
    ? Object.entries(op.requestBody.content).map(([type, { schema }]) => schemaBlock(`Request body (${escape(type)}${op.requestBody?.required ? '' : ', optional'})`, schema))
    : [];
  return [
    `<article id="${escape(op.operationId)}">`,
    `<h3>${entryTitle(entry)}</h3>`,
    `<p>${prose(op.summary)}</p>`,
    op.description ? `<p>${prose(op.description)}</p>` : '',
    `<p>${access(op)}</p>`,
    op.parameters ? parameterRows(op.parameters) : '',
    ...body,
    responseRows(op.responses),
    '</article>',
  ].join('\n');
}

/**
 * The OpenAPI document as one static HTML page: a table of contents and every route with its
 * parameters, body and answers. No script and no inline style, so the api's CSP serves it as it is.
 * `documentHref` is where the page links the document from (`/api/openapi.json` when the api serves it).
 */
export function renderApiReference(doc: OpenApiDocument, options: { documentHref: string }): string {
  const entries: Entry[] = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
  const sections = doc.tags.map((tag) => ({ tag, entries: entries.filter((entry) => entry.op.tags.includes(tag.name)) }));
  const title = `${String(doc.info.title)} ${String(doc.info.version)}`;
  const contents = sections.map(
    ({ tag, entries: list }) =>
      `<li><a href="#tag-${escape(tag.name)}">${escape(tag.name)}</a><ul>${list.map((e) => `<li><a href="#${escape(e.op.operationId)}">${entryTitle(e)}</a> ${prose(e.op.summary)}</li>`).join('')}</ul></li>`,
  );
  const body = sections.map(
    ({ tag, entries: list }) => `<section id="tag-${escape(tag.name)}">\n<h2>${escape(tag.name)}</h2>\n<p>${prose(tag.description)}</p>\n${list.map(article).join('\n')}\n</section>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} reference</title>
</head>
<body>
<header>
<h1>${escape(title)}</h1>
<p>${prose(String(doc.info.summary ?? ''))}</p>
<p>${prose(String(doc.info.description ?? ''))}</p>
<p>The machine-readable document: <a href="${escape(options.documentHref)}">openapi.json</a> (OpenAPI 3.1).</p>
</header>
<nav>
<h2>Routes</h2>
<ul>${contents.join('\n')}</ul>
</nav>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}

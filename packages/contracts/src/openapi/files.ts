import { asyncApiDocument } from '../asyncapi.js';
import { openApiDocument } from './document.js';
import { renderApiReference } from './html.js';

/** The documents committed under docs/, by file name, exactly as `npm run docs:generate` writes them. */
export function apiDocumentFiles(): Record<string, string> {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  const openapi = openApiDocument();
  return {
    'openapi.json': json(openapi),
    'asyncapi.json': json(asyncApiDocument()),
    'api-reference.html': renderApiReference(openapi, { documentHref: 'openapi.json' }),
  };
}

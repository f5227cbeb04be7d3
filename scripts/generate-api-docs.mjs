// Writes the api's documents into docs/ from the contracts package (build it first):
// openapi.json (OpenAPI 3.1), asyncapi.json (AsyncAPI 3, the SSE streams) and api-reference.html.
// test/api-documents.test.ts fails when the committed files differ from what this writes.
import { apiDocumentFiles } from '@jobstream/contracts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const docs = join(import.meta.dirname, '..', 'docs');
for (const [name, text] of Object.entries(apiDocumentFiles())) {
  await writeFile(join(docs, name), text);
  process.stdout.write(`wrote docs/${name}\n`);
}

import { openApiDocument, openApiPath, type OpenApiDocument } from '@jobstream/contracts';

/**
 * What the OpenAPI document says `route` (`POST /api/jobs/:id/cancel`) may answer: each success
 * status (`202`) and each refusal as status and code (`404 JOB_NOT_FOUND`), in the form the
 * authorization matrix writes its cells.
 */
export function documentedAnswers(route: string, doc: OpenApiDocument = openApiDocument()): Set<string> {
  const [method = '', path = ''] = route.split(' ');
  const operation = doc.paths[openApiPath(path)]?.[method.toLowerCase() as 'get' | 'post' | 'delete'];
  if (!operation) throw new Error(`${route} is not in the OpenAPI document`);
  const answers = new Set<string>();
  for (const [status, response] of Object.entries(operation.responses)) {
    const schema = response.content?.['application/json']?.schema as { allOf?: { properties?: { code?: { enum?: string[] } } }[] } | undefined;
    const codes = schema?.allOf?.[1]?.properties?.code?.enum;
    if (codes) for (const code of codes) answers.add(`${status} ${code}`);
    else answers.add(status);
  }
  return answers;
}

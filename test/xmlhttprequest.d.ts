/** The `xmlhttprequest` package (no types of its own): an XMLHttpRequest for Node, used by the SDK's xhr transport tests. */
declare module 'xmlhttprequest' {
  import type { XhrLike } from '@jobstream/client';

  export const XMLHttpRequest: new () => XhrLike & {
    open(method: string, url: string, async?: boolean): void;
    setRequestHeader(name: string, value: string): void;
  };
}

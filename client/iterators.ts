import type { PageOptions } from "./types.ts";

type Paged<I> = { img_info_list: I[]; next_cursor?: string | undefined };

/** Every page from the first, following next_cursor until a page has none. */
export async function* pagesOf<P extends Paged<unknown>>(
  readPage: (page: PageOptions) => Promise<P>,
  options: PageOptions,
): AsyncGenerator<P, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await readPage({ ...options, cursor });
    yield page;
    cursor = page.next_cursor;
  } while (cursor !== undefined);
}

/** Every item of every page, in page order. */
export async function* itemsOf<I>(pages: AsyncIterable<Paged<I>>): AsyncGenerator<I, void, undefined> {
  for await (const page of pages) yield* page.img_info_list;
}

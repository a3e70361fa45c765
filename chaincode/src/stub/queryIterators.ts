import type { Iterators } from "fabric-shim-api";

/**
 * The shim's query methods return a promise of an iterator that is also async-iterable, so chaincode may
 * either `await` and call `next()`, or `for await` directly. The results are read when the call is made,
 * from committed state, as a peer's simulator does.
 */
export function queryResult<T>(items: readonly T[]): Promise<Iterators.CommonIterator<T>> & AsyncIterable<T> {
  let position = 0;
  const iterator: Iterators.CommonIterator<T> = {
    next: () =>
      Promise.resolve(
        position < items.length
          ? { value: items[position++]!, done: false }
          : { value: undefined as unknown as T, done: true },
      ),
    close: () => Promise.resolve(),
  };
  return Object.assign(Promise.resolve(iterator), {
    [Symbol.asyncIterator]: () => asyncValues(items),
  });
}

function asyncValues<T>(items: readonly T[]): AsyncIterator<T> {
  let position = 0;
  return {
    next: () =>
      Promise.resolve(
        position < items.length
          ? { value: items[position++]!, done: false }
          : { value: undefined, done: true as const },
      ),
  };
}

export function paginate<T extends { key: string }>(
  items: readonly T[],
  pageSize: number,
  bookmark: string | undefined,
): { page: T[]; bookmark: string } {
  const start = bookmark
    ? Math.max(
        0,
        items.findIndex((item) => item.key === bookmark),
      )
    : 0;
  const page = items.slice(start, start + pageSize);
  return { page, bookmark: items[start + pageSize]?.key ?? "" };
}

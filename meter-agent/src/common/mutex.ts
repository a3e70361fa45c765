/**
 * Runs async sections one at a time. A virtual battery reads or commands several batteries in one
 * operation; without this, a status read could observe a command half applied. The meter's own
 * transactions (chain uplink, automatic trader) take turns through one, so that two never pick
 * the same nonce.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(section);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * What the local system must undo when it stops, in the reverse of the order it was set up: agents
 * before the controllers and gateway they talk to, the gateway before the chain it indexes. Every
 * step runs even when an earlier one fails, so one stuck part never leaves the others running.
 */
export class ShutdownList {
  readonly #steps: { name: string; run: () => Promise<unknown> }[] = [];
  #stopping: Promise<string[]> | undefined;

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  add(name: string, run: () => Promise<unknown>): void {
    this.#steps.push({ name, run });
  }

  /**
   * Runs every step, latest first, and resolves with a line per step that failed. Calling it again
   * returns the same run.
   */
  run(): Promise<string[]> {
    this.#stopping ??= (async () => {
      const failures: string[] = [];
      for (const step of this.#steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return failures;
    })();
    return this.#stopping;
  }
}

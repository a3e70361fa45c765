/**
 * Builds a WHERE clause from the filters a request actually gives, numbering parameters as it
 * goes: absent filters leave no `$n IS NULL OR …` behind, so the planner can use the indexes.
 */
export class SqlConditions {
  readonly params: unknown[] = [];
  readonly #clauses: string[] = [];

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  and(clause: string): this {
    this.#clauses.push(clause);
    return this;
  }

  /** `WHERE a AND b`, or nothing without conditions. */
  where(): string {
    return this.#clauses.length === 0 ? "" : `WHERE ${this.#clauses.join(" AND ")}`;
  }
}

/** TIMESTAMPTZ values arrive as Date from both engines. */
export const iso = (date: Date): string => date.toISOString();

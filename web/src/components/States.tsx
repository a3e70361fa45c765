import type { ReactNode } from "react";

/** What every data view shows while it waits, when it has nothing, or when it failed. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorBox({ title, error }: { title: string; error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state error" role="alert">
      <strong>{title}</strong> {message}
    </div>
  );
}

/** One query's three states around its content. */
export function QueryView<T>({
  query,
  what,
  isEmpty,
  empty,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean };
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.data === undefined) {
    if (query.error !== null && query.error !== undefined)
      return <ErrorBox title={`Could not load ${what}.`} error={query.error} />;
    return <Loading what={what} />;
  }
  if (isEmpty?.(query.data)) return <Empty>{empty ?? `No ${what} yet.`}</Empty>;
  return <>{children(query.data)}</>;
}

export function ConnectFirst({ to }: { to: string }) {
  return <Empty>Connect a wallet to {to}.</Empty>;
}

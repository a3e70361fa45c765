"use client";

import { useQuery, type UseQueryResult } from "@tanstack/react-query";

/** The gateway's error body ({ error, issues? }) in words, or the status when it sent none. */
export async function gatewayError(response: Response): Promise<Error> {
  try {
    const body = (await response.json()) as { error?: string; issues?: { path: string; message: string }[] };
    const issues = body.issues?.map((i) => `${i.path}: ${i.message}`).join("; ");
    return new Error(`${body.error ?? response.statusText}${issues ? ` (${issues})` : ""}`);
  } catch {
    return new Error(`the gateway answered ${response.status} ${response.statusText}`);
  }
}

export async function fetchGateway<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`/api/gateway${path}`, { ...init, cache: "no-store" });
  if (!response.ok) throw await gatewayError(response);
  return (await response.json()) as T;
}

/** A gateway resource, polled while the page is open (the system runs live). `null` path: not yet. */
export function useGateway<T>(path: string | null, refetchMs = 3_000): UseQueryResult<T> {
  return useQuery({
    queryKey: ["gateway", path],
    queryFn: () => fetchGateway<T>(path!),
    enabled: path !== null,
    refetchInterval: refetchMs,
  });
}

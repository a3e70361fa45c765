"use client";

import { CUSTOMER_SCOPE, customerAccessTypes, gatewayDomain } from "@gridmesh/contracts";
import { useCallback, useState } from "react";
import { useConnection, useSignTypedData } from "wagmi";

import { useDeployment } from "../components/Providers.js";
import { describeError } from "../lib/errors.js";

const LIFETIME_SECONDS = 3_600;

/**
 * A token for the gateway's customer endpoints: the wallet signs, once an hour at most, that it
 * is this account asking to read its own data. Nothing is sent to a chain and no key leaves it.
 */
export function useCustomerToken() {
  const { chainId } = useDeployment();
  const { address } = useConnection();
  const { signTypedDataAsync } = useSignTypedData();
  const [token, setToken] = useState<{ account: string; value: string; expires: number } | undefined>();
  const [error, setError] = useState<string | undefined>();

  const current =
    token !== undefined && token.account === address && token.expires > Date.now() / 1000 + 60
      ? token.value
      : undefined;

  const signIn = useCallback(async () => {
    if (address === undefined) return;
    setError(undefined);
    const expires = Math.floor(Date.now() / 1000) + LIFETIME_SECONDS;
    try {
      const signature = await signTypedDataAsync({
        domain: gatewayDomain(BigInt(chainId)),
        types: customerAccessTypes,
        primaryType: "CustomerAccess",
        message: { account: address, scope: CUSTOMER_SCOPE, expires: BigInt(expires) },
      });
      const value = btoa(JSON.stringify({ account: address, expires, signature }))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
      setToken({ account: address, value, expires });
    } catch (e) {
      setError(describeError(e));
    }
  }, [address, chainId, signTypedDataAsync]);

  return { token: current, signIn, error };
}

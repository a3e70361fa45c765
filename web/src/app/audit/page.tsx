"use client";

import { ClearingAudit } from "../../components/audit/ClearingAudit.js";
import { Explorer } from "../../components/audit/Explorer.js";
import { ReadingVerifier } from "../../components/audit/ReadingVerifier.js";

export default function AuditPage() {
  return (
    <>
      <h1>Audit explorer</h1>
      <p className="note">
        Everything here is read from the chain, not from the gateway&apos;s word: blocks, transactions and the
        system contracts&apos; events, decoded; any interval&apos;s clearing recomputed; any signed reading
        checked.
      </p>
      <section className="card">
        <h2>Recompute a clearing</h2>
        <ClearingAudit />
      </section>
      <section className="card">
        <h2>Verify a signed reading</h2>
        <ReadingVerifier />
      </section>
      <section className="card">
        <h2>Latest blocks</h2>
        <Explorer />
      </section>
    </>
  );
}

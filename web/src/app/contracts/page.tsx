"use client";

import { Forwards } from "../../components/delivery/Forwards.js";
import { Options } from "../../components/delivery/Options.js";

export default function DeliveryContractsPage() {
  return (
    <>
      <h1>Forwards and options</h1>
      <p className="note">
        Lock a price today for energy over a future window (forwards), or buy the right to buy at a strike
        (options). Both settle interval by interval against the meters&apos; signed readings, like spot
        trades.
      </p>
      <section className="card">
        <h2>Forwards</h2>
        <Forwards />
      </section>
      <section className="card">
        <h2>Options</h2>
        <Options />
      </section>
    </>
  );
}

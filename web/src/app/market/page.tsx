"use client";

import { useState } from "react";

import { AutoTrading } from "../../components/market/AutoTrading.js";
import { MyOrders } from "../../components/market/MyOrders.js";
import { IntervalPicker, useOpenIntervals } from "../../components/market/OpenIntervals.js";
import { OrderBookView } from "../../components/market/OrderBookView.js";
import { PlaceOrder } from "../../components/market/PlaceOrder.js";
import { PriceHistory } from "../../components/market/PriceHistory.js";

export default function MarketPage() {
  const { intervals } = useOpenIntervals();
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const interval = chosen ?? intervals[0];
  return (
    <>
      <h1>Market</h1>
      <div className="grid">
        <section className="card">
          <h2>Order book</h2>
          <IntervalPicker value={interval} onChange={setChosen} />
          {interval !== undefined ? <OrderBookView interval={interval} /> : null}
        </section>
        <section className="card">
          <h2>Place an order</h2>
          <PlaceOrder interval={interval} />
        </section>
      </div>
      <section className="card">
        <h2>Your open orders</h2>
        <MyOrders />
      </section>
      <section className="card">
        <h2>Clearing prices</h2>
        <PriceHistory />
      </section>
      <section className="card">
        <h2>Automatic trading</h2>
        <AutoTrading />
      </section>
    </>
  );
}

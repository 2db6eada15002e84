import type { ReactNode } from 'react';
import type { VariantBook } from '../stores/trading.js';
import { formatBarTime, formatPrice, pricePrecisionOf } from '../lib/format.js';
import { formatMoney, moneyTone } from '../lib/money.js';

type Position = VariantBook['positions'][number];
type Order = VariantBook['orders'][number];
type Fill = VariantBook['recentTrades'][number];

/** Fills listed under the chart; the chart marks up to the snapshot's hundred. */
const FILLS_SHOWN = 8;

function Panel({ title, count, testId, children }: { title: string; count: number; testId: string; children: ReactNode }) {
  return (
    <section className="book-panel" data-testid={testId}>
      <header className="book-panel-title">
        {title} <span className="muted">{count}</span>
      </header>
      <div className="book-panel-body">{children}</div>
    </section>
  );
}

function Empty({ cols, text }: { cols: number; text: string }) {
  return (
    <tr className="book-empty">
      <td colSpan={cols} className="muted">
        {text}
      </td>
    </tr>
  );
}

export function PositionsTable({ positions }: { positions: readonly Position[] }) {
  const precision = pricePrecisionOf(positions.map((p) => p.avgPrice));
  return (
    <Panel title="Positions" count={positions.length} testId="positions-table">
      <table className="grid book-table">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th className="num">Qty</th>
            <th className="num">Avg price</th>
            <th className="num">Unrealized</th>
          </tr>
        </thead>
        <tbody>
          {positions.length === 0 ? <Empty cols={5} text="Flat: no open position." /> : null}
          {positions.map((p) => (
            <tr key={`${p.vtSymbol}:${p.direction}`} data-testid="position-row">
              <td className="mono" data-col="vtSymbol">
                {p.vtSymbol}
              </td>
              <td data-col="direction" className={p.direction === 'long' ? 'up' : 'down'}>
                {p.direction}
              </td>
              <td className="num" data-col="volume">
                {p.volume}
              </td>
              <td className="num" data-col="avgPrice" data-value={p.avgPrice}>
                {formatPrice(p.avgPrice, Math.min(precision + 1, 4))}
              </td>
              <td className={`num ${moneyTone(p.unrealizedPnl)}`} data-col="unrealizedPnl" data-value={p.unrealizedPnl}>
                {formatMoney(p.unrealizedPnl)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

export function OrdersTable({ orders }: { orders: readonly Order[] }) {
  const precision = pricePrecisionOf(orders.flatMap((o) => (o.price === null ? [] : [o.price])));
  return (
    <Panel title="Pending orders" count={orders.length} testId="orders-table">
      <table className="grid book-table">
        <thead>
          <tr>
            <th>Placed</th>
            <th>Side</th>
            <th>Offset</th>
            <th>Type</th>
            <th className="num">Price</th>
            <th className="num">Qty</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {orders.length === 0 ? <Empty cols={7} text="No resting order." /> : null}
          {orders.map((o) => (
            <tr key={o.id} data-testid="order-row" data-id={o.id} title={`${o.id} · ${o.vtSymbol}`}>
              <td className="mono" data-col="createdAt" data-value={o.createdAt}>
                {formatBarTime(o.createdAt)}
              </td>
              <td data-col="side" className={o.side === 'buy' ? 'up' : 'down'}>
                {o.side}
              </td>
              <td data-col="offset">{o.offset}</td>
              <td data-col="type">{o.type}</td>
              <td className="num" data-col="price" data-value={o.price ?? ''}>
                {o.price === null ? 'market' : formatPrice(o.price, precision)}
              </td>
              <td className="num" data-col="volume">
                {o.volume}
              </td>
              <td data-col="status">{o.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

export function FillsTable({ fills }: { fills: readonly Fill[] }) {
  const shown = fills.slice(-FILLS_SHOWN).reverse();
  const precision = pricePrecisionOf(shown.map((f) => f.price));
  return (
    <Panel title="Recent fills" count={fills.length} testId="fills-table">
      <table className="grid book-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Side</th>
            <th>Offset</th>
            <th className="num">Price</th>
            <th className="num">Qty</th>
            <th className="num">PnL</th>
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 ? <Empty cols={6} text="No fill yet." /> : null}
          {shown.map((f) => (
            <tr key={f.id} data-testid="fill-row" data-id={f.id}>
              <td className="mono">{formatBarTime(f.time)}</td>
              <td className={f.side === 'buy' ? 'up' : 'down'}>{f.side}</td>
              <td>{f.offset}</td>
              <td className="num">{formatPrice(f.price, precision)}</td>
              <td className="num">{f.volume}</td>
              <td className={`num ${moneyTone(f.pnl)}`}>{f.pnl === null ? '' : formatMoney(f.pnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/**
 * The values a closed window bar hands to the signal detectors. The engine fills one instance
 * per bar and passes the object: V8 boxes double arguments of calls it does not inline, so
 * passing six numbers to each of six detectors would allocate on every bar.
 */
export class SignalInput {
  time = 0;
  high = 0;
  low = 0;
  close = 0;
  dif = 0;
  macd = 0;

  set(time: number, high: number, low: number, close: number, dif: number, macd: number): this {
    this.time = time;
    this.high = high;
    this.low = low;
    this.close = close;
    this.dif = dif;
    this.macd = macd;
    return this;
  }
}

import { create } from 'zustand';

/**
 * One ticking clock for every "… ago" on screen, so ages advance together and the UI
 * runs a single timer however many rows show an age.
 */
interface ClockState {
  now: number;
}

export const useClock = create<ClockState>(() => ({ now: Date.now() }));

let timer: ReturnType<typeof setInterval> | null = null;

export function startClock(periodMs = 1000): () => void {
  if (timer === null) {
    timer = setInterval(() => useClock.setState({ now: Date.now() }), periodMs);
  }
  return () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
}

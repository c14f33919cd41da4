// One tick per wall-clock second, aligned to the boundary.
//
// A drifting setInterval would slowly move the frames away from the second they show; instead every tick
// re-arms a timeout for the next boundary, measured from Date.now(). Timers may fire a millisecond early,
// so the tick takes the second from the boundary it was armed for, never from the time it woke.
// After each tick, `prepare(t + 1)` runs on the next turn of the event loop: the next second's frames are
// rendered and encoded long before they are due, so the tick itself only writes.

export interface ClockHooks {
  /** Called at (or just after) the start of `unixSeconds`: write the frames of that second. */
  tick(unixSeconds: number, nowMs: number): void;
  /** Called once the tick's writes are queued: render what `unixSeconds` will show. */
  prepare(unixSeconds: number): void;
}

export interface Clock {
  start(): void;
  stop(): void;
}

export type NowFn = () => number;

export function createClock(hooks: ClockHooks, now: NowFn = Date.now): Clock {
  let timer: NodeJS.Timeout | null = null;
  let armedFor = 0; // the second whose start the timer waits for

  const arm = (): void => {
    const ms = now();
    armedFor = Math.floor(ms / 1000) + 1;
    timer = setTimeout(fire, armedFor * 1000 - ms);
  };

  const fire = (): void => {
    const ms = now();
    const early = armedFor * 1000 - ms;
    if (early > 0) {
      // Woke before the boundary (timer rounding): wait the rest rather than show the old second again.
      timer = setTimeout(fire, early);
      return;
    }
    // Seconds missed while the event loop was blocked are not replayed: show the one we are in.
    const second = Math.max(armedFor, Math.floor(ms / 1000));
    hooks.tick(second, ms);
    arm();
    setImmediate(hooks.prepare, second + 1);
  };

  return {
    start() {
      if (timer === null) arm();
    },
    stop() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
